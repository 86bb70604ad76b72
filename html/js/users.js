// nacre console: users, roles and permissions (/nacos/v1/auth/..., the
// admin role only, as in Nacos).

import * as api from './api.js';
import { h, page, field, table, pager, button, go, busy, ask, flash }
    from './ui.js';

const AUTH = '/nacos/v1/auth';
const SIZE = 20;

function pageOf(p) {
    return Math.max(1, parseInt(p.pageNo, 10) || 1);
}

// a search box, the page of results and a form to add one
async function crud(p, current, o) {
    const pageNo = pageOf(p);
    const box = h('div');
    const main = page(o.title);
    const fSearch = field(o.searchLabel, 'q', { value: p.q,
                                                placeholder: 'part of it' });

    main.appendChild(h('form', { class: 'search', role: 'search',
        onsubmit: e => {
            e.preventDefault();
            go(o.path, { q: fSearch.input.value.trim() });
        } }, fSearch, h('button', { type: 'submit' }, 'Search')));
    main.appendChild(box);

    const q = { search: 'blur', pageNo, pageSize: SIZE };
    q[o.searchParam] = p.q ? '*' + p.q + '*' : '';
    const r = await api.call(AUTH + o.api, { query: q });

    if (!current()) {
        return;
    }

    const again = () => crud(p, current, o);
    const cols = o.columns.concat([{ title: 'Actions', class: 'acts',
        render: x => o.actions(x, box, again) }]);

    main.appendChild(table(o.title, cols, r.pageItems || [],
                           'Nothing matches.'));
    main.appendChild(pager(pageNo, SIZE, r.totalCount || 0,
        n => go(o.path, { q: p.q, pageNo: n })));

    const out = h('div');
    const inputs = o.fields.map(f => field(f.label, f.name, f.opts || {}));
    const submit = h('button', { type: 'submit' }, o.addLabel);

    main.appendChild(h('section', { class: 'panel' },
        h('h2', null, o.addLabel),
        h('form', { class: 'row', onsubmit: async e => {
            e.preventDefault();
            const form = {};
            for (const f of inputs) {
                form[f.input.name] = f.input.value.trim();
            }
            await busy(submit, out, async () => {
                api.restData(await api.call(AUTH + o.api,
                                            { method: 'POST', form }));
                flash(o.added(form));
                await again();
            });
        } }, inputs, submit), out));
}

function del(what, path, form, box, again) {
    return button('Delete', async e => {
        if (!ask('Delete ' + what + '?')) {
            return;
        }
        await busy(e.target, box, async () => {
            api.restData(await api.call(AUTH + path,
                                        { method: 'DELETE', query: form }));
            flash('Deleted ' + what + '.');
            await again();
        });
    }, 'danger');
}

export function users(p, current) {
    return crud(p, current, {
        title: 'Users', path: '/users', api: '/users',
        searchLabel: 'User name', searchParam: 'username',
        columns: [{ title: 'User', render: u => u.username }],
        actions: (u, box, again) => [
            button('Change password', e => password(e.target, u, box)), ' ',
            del('the user ' + u.username, '/users',
                { username: u.username }, box, again)],
        addLabel: 'Create user',
        fields: [
            { label: 'User name', name: 'username',
              opts: { required: true } },
            { label: 'Password', name: 'password',
              opts: { type: 'password', required: true,
                      autocomplete: 'new-password' } }],
        added: f => 'Created user ' + f.username + '.',
    });
}

async function password(btn, u, box) {
    const pw = window.prompt('New password of ' + u.username);
    if (!pw) {
        return;
    }
    await busy(btn, box, async () => {
        api.restData(await api.call(AUTH + '/users', { method: 'PUT',
            form: { username: u.username, newPassword: pw } }));
        flash('Password of ' + u.username + ' changed.');
    });
}

export function roles(p, current) {
    return crud(p, current, {
        title: 'Roles', path: '/roles', api: '/roles',
        searchLabel: 'Role', searchParam: 'role',
        columns: [{ title: 'Role', render: r => r.role },
                  { title: 'User', render: r => r.username }],
        actions: (r, box, again) => del(`the role ${r.role} of`
            + ` ${r.username}`, '/roles',
            { role: r.role, username: r.username }, box, again),
        addLabel: 'Bind a role',
        fields: [
            { label: 'Role', name: 'role', opts: { required: true } },
            { label: 'User name', name: 'username',
              opts: { required: true } }],
        added: f => `Gave ${f.username} the role ${f.role}.`,
    });
}

export function permissions(p, current) {
    return crud(p, current, {
        title: 'Permissions', path: '/permissions', api: '/permissions',
        searchLabel: 'Role', searchParam: 'role',
        columns: [{ title: 'Role', render: x => x.role },
                  { title: 'Resource', class: 'mono',
                    render: x => x.resource },
                  { title: 'Action', render: x => ({ r: 'read',
                      w: 'write', rw: 'read and write' }[x.action]
                      || x.action) }],
        actions: (x, box, again) => del(`the permission of ${x.role} on`
            + ` ${x.resource}`, '/permissions',
            { role: x.role, resource: x.resource, action: x.action },
            box, again),
        addLabel: 'Add a permission',
        fields: [
            { label: 'Role', name: 'role', opts: { required: true } },
            { label: 'Resource', name: 'resource',
              opts: { required: true, placeholder: 'namespace:group:config/*',
                      hint: '[namespace]:group:config|naming/name,'
                            + ' * for any run of characters' } },
            { label: 'Action', name: 'action', opts: { type: 'select',
              options: [['r', 'read'], ['w', 'write'],
                        ['rw', 'read and write']] } }],
        added: f => `Gave ${f.role} ${f.action} on ${f.resource}.`,
    });
}
