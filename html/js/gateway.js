// nacre console: the gateway's routes (/v1/gateway/routes, admins only)
// and this node's counters per route (/v1/gateway/stats).  A route is
// edited as the JSON the API takes; the server checks it as the gateway
// will compile it, and its 400 is shown as it is.

import * as api from './api.js';
import { h, clear, page, field, table, button, link, route, go, busy, ask,
         flash, notice } from './ui.js';
import { editor } from './editor.js';

const ROUTES = '/v1/gateway/routes';

const TEMPLATE = {
    path: '/orders/',
    path_type: 'prefix',
    methods: ['GET', 'POST'],
    strip_prefix: true,
    upstream: { service: { name: 'orders', group: 'DEFAULT_GROUP' },
                balance: 'round_robin' },
    timeouts: { connect: '2s', read: '30s' },
};

function upstreamText(u) {
    if (!u) {
        return '';
    }
    if (u.service) {
        return 'service ' + (u.service.group ? u.service.group + '/' : '')
               + u.service.name;
    }
    if (u.nodes) {
        return u.nodes.map(n => n.address || n).join(', ');
    }
    return JSON.stringify(u);
}

export async function list(p, current) {
    const main = page('Gateway routes',
        h('a', { class: 'button primary', href: route('/gateway/edit') },
          'Create route'),
        button('Refresh counters', () => list(p, current)));

    const [routes, stats] = await Promise.all([
        api.call(ROUTES),
        api.call('/v1/gateway/stats').catch(() => ({})),
    ]);

    if (!current()) {
        return;
    }

    const box = h('div');
    const n = (id, k) => (stats && stats[id] ? stats[id][k] : 0);

    main.appendChild(box);
    main.appendChild(table('Routes and their counters on this node', [
        { title: 'Id', render: r => link(r.id, route('/gateway/edit',
            { id: r.id })) },
        { title: 'Match', class: 'mono', render: r =>
            (r.hosts ? r.hosts.join(',') + ' ' : '')
            + (r.methods ? r.methods.join(',') + ' ' : '')
            + (r.path || '') + (r.path_type && r.path_type !== 'prefix'
                                ? ' (' + r.path_type + ')' : '') },
        { title: 'Upstream', render: r => upstreamText(r.upstream) },
        { title: 'Requests', class: 'num', render: r => n(r.id, 'requests') },
        { title: '2xx', class: 'num', render: r => n(r.id, '2xx') },
        { title: '3xx', class: 'num', render: r => n(r.id, '3xx') },
        { title: '4xx', class: 'num', render: r => n(r.id, '4xx') },
        { title: '5xx', class: 'num', render: r => n(r.id, '5xx') },
        { title: 'Actions', class: 'acts', render: r => [
            link('Edit', route('/gateway/edit', { id: r.id })), ' ',
            button('Delete', async e => {
                if (!ask('Delete the route ' + r.id + '?')) {
                    return;
                }
                await busy(e.target, box, async () => {
                    await api.call(ROUTES + '/' + encodeURIComponent(r.id),
                                   { method: 'DELETE' });
                    flash('Deleted route ' + r.id + '.');
                    await list(p, current);
                });
            }, 'danger')] },
    ], routes || [], 'No route yet.'));
    main.appendChild(h('p', { class: 'hint' },
        'Counters are this node\'s since it started: requests, then answers'
        + ' by class.'));
}

export async function edit(p, current) {
    const editing = !!p.id;
    const main = page(editing ? 'Route ' + p.id : 'Create route');
    const box = h('div', { id: 'route-errors' });
    let rt = TEMPLATE;

    if (editing) {
        rt = await api.call(ROUTES + '/' + encodeURIComponent(p.id));
        if (!current()) {
            return;
        }
        rt = { ...rt };
        delete rt.id;
    }

    const fId = field('Route id', 'id', { value: p.id || '',
        required: true, readonly: editing,
        hint: 'Letters, digits, ".", "-" and "_".' });
    const fJson = editor('Route (JSON)', 'route',
        JSON.stringify(rt, null, 2), { rows: 22,
        hint: 'path, path_type, hosts, methods, headers, query, priority,'
              + ' upstream {service | nodes, balance}, timeouts, retries,'
              + ' strip_prefix, rewrite, request_headers, response_headers,'
              + ' rate_limit, token: see man nacre.' });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save');
    const quick = quickFields(rt, fJson.input, box);

    main.appendChild(box);
    main.appendChild(h('form', { class: 'edit', onsubmit: async e => {
        e.preventDefault();
        clear(box);

        const id = fId.input.value.trim();
        let body;

        if (!id) {
            box.appendChild(notice('error', 'The route needs an id.'));
            fId.input.focus();
            return;
        }

        try {
            body = JSON.parse(fJson.input.value);
        } catch (err) {
            box.appendChild(notice('error',
                'The route is not valid JSON: ' + err.message));
            fJson.input.focus();
            return;
        }

        await busy(save, box, async () => {
            await api.call(ROUTES + '/' + encodeURIComponent(id), {
                method: 'PUT', body: JSON.stringify(body),
                headers: { 'Content-Type': 'application/json' } });
            flash('Saved route ' + id + '.');
            go('/gateway');
        });

        if (box.firstChild) {
            fJson.input.focus();
        }
    } }, fId, quick, fJson, h('div', { class: 'buttons' }, save,
        h('a', { class: 'button', href: route('/gateway') }, 'Cancel'))));

    (editing ? fJson.input : fId.input).focus();
}


// the common keys as fields, written into the JSON (other keys are kept)
function quickFields(rt, json, box) {
    const up = rt.upstream || {};
    const svc = up.service || {};
    const fPath = field('Path', 'q-path', { value: rt.path || '' });
    const fType = field('Path match', 'q-path-type', { type: 'select',
        options: ['prefix', 'exact', 'regex'],
        value: rt.path_type || 'prefix' });
    const fHosts = field('Hosts (comma separated)', 'q-hosts',
        { value: (rt.hosts || []).join(',') });
    const fMethods = field('Methods (comma separated)', 'q-methods',
        { value: (rt.methods || []).join(',') });
    const fService = field('Service', 'q-service', { value: svc.name || '' });
    const fGroup = field('Group', 'q-group', { value: svc.group || '' });
    const fNodes = field('Or nodes (address[=weight], comma separated)',
        'q-nodes', { value: (up.nodes || []).map(n => n.address
            + (n.weight ? '=' + n.weight : '')).join(',') });
    const fStrip = field('Strip the prefix', 'q-strip', { type: 'checkbox',
        checked: !!rt.strip_prefix });

    const list = v => v.split(',').map(x => x.trim()).filter(x => x);

    const apply = button('Write into the JSON', () => {
        clear(box);
        let r;
        try {
            r = JSON.parse(json.value || '{}');
        } catch (e) {
            box.appendChild(notice('error',
                'The route is not valid JSON: ' + e.message));
            return;
        }

        const set = (k, v) => {
            if (v === '' || v === false || (Array.isArray(v) && !v.length)) {
                delete r[k];
            } else {
                r[k] = v;
            }
        };

        set('path', fPath.input.value.trim());
        set('path_type', fType.input.value === 'prefix'
                         ? '' : fType.input.value);
        set('hosts', list(fHosts.input.value));
        set('methods', list(fMethods.input.value).map(m => m.toUpperCase()));
        set('strip_prefix', fStrip.input.checked);

        const u = { ...(r.upstream || {}) };
        const nodes = list(fNodes.input.value).map(n => {
            const [address, weight] = n.split('=');
            return weight ? { address, weight: Number(weight) }
                          : { address };
        });
        if (fService.input.value.trim()) {
            u.service = { ...(u.service || {}),
                          name: fService.input.value.trim() };
            if (fGroup.input.value.trim()) {
                u.service.group = fGroup.input.value.trim();
            } else {
                delete u.service.group;
            }
            delete u.nodes;
        } else if (nodes.length) {
            u.nodes = nodes;
            delete u.service;
        }
        r.upstream = u;

        json.value = JSON.stringify(r, null, 2);
        json.dispatchEvent(new Event('input'));
        flash('Written into the JSON: check it, then save.');
    });

    return h('fieldset', { class: 'panel quick' },
        h('legend', null, 'Common settings'),
        h('div', { class: 'row' }, fPath, fType, fHosts, fMethods),
        h('div', { class: 'row' }, fService, fGroup, fNodes, fStrip, apply));
}
