// nacre console: the router, the login page and the header.
//
// Pages are addressed by the URL fragment (#/configs?dataId=...), so the
// back button, reload and bookmarks work without any server-side route.

import * as api from './api.js';
import { h, clear, page, field, errorBox, notice, busy, go } from './ui.js';
import * as configs from './configs.js';
import * as services from './services.js';
import * as cluster from './cluster.js';
import * as gateway from './gateway.js';
import * as users from './users.js';
import * as namespaces from './namespaces.js';

const routes = {
    '/login': loginPage,
    '/configs': configs.list,
    '/config': configs.detail,
    '/config/edit': configs.edit,
    '/config/history': configs.history,
    '/services': services.list,
    '/service': services.detail,
    '/namespaces': namespaces.list,
    '/cluster': cluster.show,
    '/gateway': gateway.list,
    '/gateway/edit': gateway.edit,
    '/users': users.users,
    '/roles': users.roles,
    '/permissions': users.permissions,
};

// the message to show on the login page after a refusal or a logout
let loginMessage = null;

api.whenLoggedOut(msg => {
    loginMessage = { kind: 'error', text: msg };
    if (!location.hash.startsWith('#/login')) {
        go('/login', { next: location.hash.slice(1) });
    } else {
        render();
    }
});

function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/configs';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = Object.fromEntries(
        new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)));
    return { path, params };
}

let seq = 0;

async function render() {
    const { path, params } = parseHash();
    const s = api.session();
    const mine = ++seq;

    if (!s && path !== '/login') {
        go('/login', { next: location.hash.slice(1) || '/configs' });
        return;
    }

    header(path);

    const fn = routes[path];
    if (!fn) {
        page('Not found').appendChild(
            notice('error', 'No page at ' + path + '.'));
        return;
    }

    // aria-busy until the page has its data; seq tells renders apart
    const main = document.getElementById('main');
    main.setAttribute('aria-busy', 'true');
    main.dataset.path = path;
    main.dataset.seq = String(mine);

    try {
        await fn(params, () => mine === seq);
    } catch (e) {
        // an identity refusal has already moved us to the login page
        if (mine === seq && !location.hash.startsWith('#/login')) {
            main.appendChild(errorBox(e));
        }
    } finally {
        if (mine === seq) {
            main.removeAttribute('aria-busy');
        }
    }
}

let nsLoaded = false;

async function header(path) {
    const top = document.getElementById('top');
    const s = api.session();

    if (path === '/login' || !s) {
        top.hidden = true;
        nsLoaded = false;
        return;
    }

    top.hidden = false;
    document.getElementById('whoami').textContent = s.user
        + (s.admin ? ' (admin)' : '');

    const section = '/' + path.split('/')[1];
    for (const a of document.querySelectorAll('#nav a')) {
        const target = a.getAttribute('href').slice(1);
        const on = target === section
            || (section === '/config' && target === '/configs')
            || (section === '/service' && target === '/services');
        if (on) {
            a.setAttribute('aria-current', 'page');
        } else {
            a.removeAttribute('aria-current');
        }
    }

    if (!nsLoaded) {
        nsLoaded = true;
        await loadNamespaces();
    }
}

export async function loadNamespaces() {
    const sel = document.getElementById('namespace');
    let list = [];

    try {
        list = api.restData(await api.call('/nacos/v1/console/namespaces'));
    } catch (e) {
        list = [{ namespace: '', namespaceShowName: 'public' }];
    }

    clear(sel);
    for (const n of list) {
        sel.appendChild(h('option', { value: n.namespace },
            n.namespaceShowName + (n.namespace ? ' (' + n.namespace + ')'
                                               : '')));
    }
    sel.value = api.namespace();
    if (sel.value !== api.namespace()) {
        api.setNamespace('');
        sel.value = '';
    }
}

function loginPage(params) {
    const main = page('Log in to nacre');
    const box = h('div');
    const user = field('User name', 'username', {
        value: 'nacos', required: true, autocomplete: 'username' });
    const pass = field('Password', 'password', {
        type: 'password', required: true,
        autocomplete: 'current-password' });
    const submit = h('button', { type: 'submit', class: 'primary' },
        'Log in');

    if (loginMessage) {
        box.appendChild(notice(loginMessage.kind, loginMessage.text));
        loginMessage = null;
    }

    const form = h('form', { class: 'login', onsubmit: async e => {
        e.preventDefault();
        await busy(submit, box, async () => {
            await api.login(user.input.value, pass.input.value);
            const next = params.next && params.next.startsWith('/')
                && !params.next.startsWith('/login')
                ? params.next : '/configs';
            location.hash = '#' + next;
        });
    } }, user, pass, submit);

    main.classList.add('narrow');
    main.appendChild(box);
    main.appendChild(form);
    pass.input.focus();
}

document.getElementById('logout').addEventListener('click', () => {
    api.setSession(null);
    loginMessage = { kind: 'ok', text: 'You are logged out.' };
    go('/login');
});

document.getElementById('namespace').addEventListener('change', e => {
    api.setNamespace(e.target.value);
    render();
});

window.addEventListener('hashchange', render);
render();
