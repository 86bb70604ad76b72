// nacre console: configurations.  Everything here is Nacos' config API
// v1 (/nacos/v1/cs/configs, /history), as the official clients call it.

import * as api from './api.js';
import { h, clear, page, field, table, pager, button, link, route, go,
         busy, ask, flash, notice, formatTime, download }
    from './ui.js';
import { editor, listing } from './editor.js';
import { sideBySide } from './diff.js';

const CONFIGS = '/nacos/v1/cs/configs';
const HISTORY = '/nacos/v1/cs/history';
const TYPES = ['text', 'json', 'xml', 'yaml', 'html', 'properties', 'toml'];
const GROUP = 'DEFAULT_GROUP';

function key(p) {
    return { dataId: p.dataId, group: p.group || GROUP,
             tenant: api.namespace() };
}

// the item's metadata and content (accurate search: one page of one)
async function fetchItem(k) {
    const r = await api.call(CONFIGS, { query: {
        search: 'accurate', dataId: k.dataId, group: k.group,
        tenant: k.tenant, pageNo: 1, pageSize: 1 } });
    return r && r.pageItems && r.pageItems.length ? r.pageItems[0] : null;
}

// the clients long-polling the item, on every member: [{ip, md5}]
async function fetchListeners(k) {
    const r = await api.call(CONFIGS + '/listener', { query: k });
    const m = (r && r.lisentersGroupkeyStatus) || {};
    return Object.keys(m).sort().map(ip => ({ ip, md5: m[ip] }));
}

// the gray (beta) version, or null
async function fetchBeta(k) {
    const r = await api.call(CONFIGS, { query: { beta: 'true', ...k } });
    return api.restData(r) || null;
}

/* --- list --------------------------------------------------------------- */

export async function list(p, current) {
    const pageNo = Math.max(1, parseInt(p.pageNo, 10) || 1);
    const pageSize = Math.min(500, parseInt(p.pageSize, 10) || 20);
    const blur = p.mode !== 'accurate';
    const box = h('div');

    const main = page('Configurations',
        h('a', { class: 'button primary', href: route('/config/edit') },
          'Create configuration'),
        button('Export', e => exportZip(e.target, box)),
        button('Import', () => {
            const f = document.querySelector('#import input');
            f.scrollIntoView();
            f.focus();
        }));

    const fId = field('Data ID', 'dataId', { value: p.dataId,
        placeholder: blur ? 'part of a name, * for any' : 'exact' });
    const fGroup = field('Group', 'group', { value: p.group });
    const fApp = field('Application', 'appName', { value: p.appName });
    const fMode = field('Match', 'mode', { type: 'select',
        options: [['blur', 'containing'], ['accurate', 'exactly']],
        value: blur ? 'blur' : 'accurate' });
    const fSize = field('Per page', 'pageSize', { type: 'select',
        options: ['10', '20', '50', '100'], value: String(pageSize) });

    const search = (n) => go('/configs', {
        dataId: fId.input.value.trim(), group: fGroup.input.value.trim(),
        appName: fApp.input.value.trim(), mode: fMode.input.value,
        pageSize: fSize.input.value, pageNo: n });

    main.appendChild(h('form', { class: 'search', role: 'search',
        onsubmit: e => { e.preventDefault(); search(1); } },
        fId, fGroup, fApp, fMode, fSize,
        h('button', { type: 'submit' }, 'Search')));
    main.appendChild(box);

    const results = h('div', { class: 'results', 'aria-busy': 'true' });
    main.appendChild(results);

    const wrap = v => (blur && v && !v.includes('*') ? '*' + v + '*' : v);
    const r = await api.call(CONFIGS, { query: {
        search: blur ? 'blur' : 'accurate',
        dataId: wrap(p.dataId || ''), group: wrap(p.group || ''),
        appName: p.appName || undefined,
        tenant: api.namespace(), pageNo, pageSize } });

    if (!current()) {
        return;
    }

    results.removeAttribute('aria-busy');
    results.appendChild(table('Configurations', [
        { title: 'Data ID', render: c => link(c.dataId, route('/config',
            { dataId: c.dataId, group: c.group })) },
        { title: 'Group', render: c => c.group },
        { title: 'Application', render: c => c.appName || '' },
        { title: 'Type', render: c => c.type || 'text' },
        { title: 'Gray', render: c => (c.isBeta ? 'beta' : '') },
        { title: 'Actions', class: 'acts', render: c => [
            link('Edit', route('/config/edit',
                 { dataId: c.dataId, group: c.group })), ' ',
            link('History', route('/config/history',
                 { dataId: c.dataId, group: c.group })), ' ',
            button('Delete', e => remove(e.target, box, c, () => list(p,
                current)), 'danger') ] },
    ], r.pageItems || [], 'No configuration matches.'));

    // a deleted item still has its history
    if (!(r.pageItems || []).length && p.dataId && !p.dataId.includes('*')) {
        results.appendChild(h('p', null, link('History of ' + p.dataId
            + ' (' + (p.group || GROUP) + ')', route('/config/history',
            { dataId: p.dataId, group: p.group || GROUP }))));
    }

    results.appendChild(pager(pageNo, pageSize, r.totalCount || 0, search));

    main.appendChild(importForm(box, () => list(p, current)));
    performance.mark('nacre:configs-rendered');
}

async function remove(btn, box, c, done) {
    if (!ask(`Delete ${c.dataId} (${c.group})?`)) {
        return;
    }
    await busy(btn, box, async () => {
        await api.call(CONFIGS, { method: 'DELETE', query: {
            dataId: c.dataId, group: c.group, tenant: api.namespace() } });
        flash(`Deleted ${c.dataId}.`);
        await done();
    });
}

async function exportZip(btn, box) {
    await busy(btn, box, async () => {
        const r = await api.call(CONFIGS, { blob: true, query: {
            exportV2: 'true', tenant: api.namespace() } });
        download(r.blob, 'nacos_config_export_'
                 + (api.namespace() || 'public') + '.zip');
        flash('Exported.');
    });
}

function importForm(box, done) {
    const file = field('Zip file (as exported)', 'file', { type: 'file' });
    const policy = field('When an item exists', 'policy', { type: 'select',
        options: [['ABORT', 'abort the import'], ['SKIP', 'skip it'],
                  ['OVERWRITE', 'overwrite it']] });
    const submit = h('button', { type: 'submit' }, 'Import');
    const out = h('div');

    return h('section', { id: 'import', class: 'panel' },
        h('h2', null, 'Import'),
        h('form', { class: 'row', onsubmit: async e => {
            e.preventDefault();
            const f = file.input.files[0];
            if (!f) {
                clear(out).appendChild(notice('error', 'Choose a file.'));
                return;
            }
            const fd = new FormData();
            fd.append('file', f, f.name);
            await busy(submit, out, async () => {
                const r = api.restData(await api.call(CONFIGS, {
                    method: 'POST', body: fd, query: { import: 'true',
                    namespace: api.namespace(),
                    policy: policy.input.value } }));
                out.appendChild(notice('ok', `Imported ${r.succCount},`
                    + ` skipped ${r.skipCount}, failed ${r.failCount}.`));
                flash('Imported.');
            });
        } }, file, policy, submit, out));
}

/* --- detail ------------------------------------------------------------- */

export async function detail(p, current) {
    const k = key(p);
    const box = h('div');
    const main = page('Configuration ' + k.dataId,
        h('a', { class: 'button primary', href: route('/config/edit',
            { dataId: k.dataId, group: k.group }) }, 'Edit'),
        h('a', { class: 'button', href: route('/config/history',
            { dataId: k.dataId, group: k.group }) }, 'History'),
        button('Delete', e => remove(e.target, box, k,
            () => go('/configs')), 'danger'));

    main.appendChild(box);

    const [item, beta, listeners] = await Promise.all([fetchItem(k),
        fetchBeta(k).catch(() => null), fetchListeners(k).catch(e => e)]);
    if (!current()) {
        return;
    }
    if (!item) {
        main.appendChild(notice('error', 'config data not exist'));
        return;
    }

    main.appendChild(h('dl', { class: 'props' },
        h('dt', null, 'Data ID'), h('dd', null, item.dataId),
        h('dt', null, 'Group'), h('dd', null, item.group),
        h('dt', null, 'Namespace'), h('dd', null, item.tenant || 'public'),
        h('dt', null, 'Type'), h('dd', null, item.type || 'text'),
        h('dt', null, 'Application'), h('dd', null, item.appName || '-'),
        h('dt', null, 'MD5'), h('dd', { class: 'mono' }, item.md5 || '')));
    main.appendChild(h('h2', null, 'Content'));
    main.appendChild(listing(item.content || ''));

    if (beta) {
        main.appendChild(h('section', { class: 'panel', id: 'gray' },
            h('h2', null, 'Gray release'),
            h('p', null, 'Served to ', h('span', { class: 'mono' },
              beta.betaIps), ' instead of the content above.'),
            listing(beta.content || '')));
    }

    const section = h('section', { class: 'panel', id: 'listeners' },
        h('h2', null, 'Listeners'),
        h('p', null, 'Clients long-polling this configuration, on every '
          + 'member, with the MD5 each holds.'));
    main.appendChild(section);
    if (listeners instanceof Error) {
        section.appendChild(notice('error', listeners.message));
        return;
    }
    section.appendChild(table('Listeners', [
        { title: 'Client', class: 'mono', render: l => l.ip },
        { title: 'MD5 held', class: 'mono', render: l => l.md5 || '(none)' },
        { title: 'State', render: l => l.md5 === item.md5 || (beta
            && l.md5 === beta.md5) ? 'up to date' : 'behind' },
    ], listeners, 'No client is listening.'));
}

/* --- create / edit, gray release ---------------------------------------- */

export async function edit(p, current) {
    const editing = !!p.dataId;
    const k = key(p);
    const box = h('div');
    const main = page(editing ? 'Edit ' + k.dataId : 'Create configuration');

    let item = null;
    let beta = null;

    if (editing) {
        [item, beta] = await Promise.all([fetchItem(k),
                                          fetchBeta(k).catch(() => null)]);
        if (!current()) {
            return;
        }
        if (!item) {
            main.appendChild(notice('error', 'config data not exist'));
            return;
        }
    }

    const fId = field('Data ID', 'dataId', { value: k.dataId,
        required: true, readonly: editing });
    const fGroup = field('Group', 'group', { value: k.group,
        required: true, readonly: editing });
    const fApp = field('Application', 'appName',
        { value: item ? item.appName : '' });
    const fDesc = field('Description', 'desc');
    const fType = field('Content type', 'type', { type: 'select',
        options: TYPES, value: item ? item.type || 'text' : 'text' });
    const fContent = editor('Content', 'content', item ? item.content : '',
        { hint: 'Tab indents; Escape then Tab leaves the editor.' });
    const fBeta = field('Gray release to (client IPs, comma separated)',
        'betaIps', { value: beta ? beta.betaIps : '',
        hint: 'Publish as gray: only these clients get this content.' });

    const publish = h('button', { type: 'submit', class: 'primary' },
        'Publish');
    const gray = button('Publish as gray', e => save(e.target, true));
    const stop = beta ? button('Stop gray release', async e => {
        await busy(e.target, box, async () => {
            await api.call(CONFIGS, { method: 'DELETE',
                query: { beta: 'true', ...k } });
            flash('Gray release stopped.');
            go('/config', { dataId: k.dataId, group: k.group });
        });
    }, 'danger') : null;

    // a JSON or XML item that does not parse is refused here, before
    // clients that expect it to parse ever get it
    function invalid(type, text) {
        try {
            if (type === 'json') {
                JSON.parse(text);
            } else if (type === 'xml') {
                const d = new DOMParser().parseFromString(text,
                                                          'application/xml');
                const err = d.querySelector('parsererror');
                if (err) {
                    return 'the content is not well-formed XML: '
                           + err.textContent.split('\n')[0];
                }
            }
        } catch (e) {
            return 'the content is not valid JSON: ' + e.message;
        }
        return null;
    }

    async function save(btn, asBeta) {
        const form = {
            dataId: fId.input.value.trim(),
            group: fGroup.input.value.trim(),
            tenant: api.namespace(),
            content: fContent.input.value,
            type: fType.input.value,
            appName: fApp.input.value.trim(),
            desc: fDesc.input.value.trim() || undefined,
        };
        const headers = {};

        clear(box);
        const bad = invalid(form.type, form.content);
        if (bad) {
            box.appendChild(notice('error', bad));
            return;
        }
        if (asBeta) {
            if (!fBeta.input.value.trim()) {
                box.appendChild(notice('error',
                    'Name the client IPs of the gray release.'));
                fBeta.input.focus();
                return;
            }
            headers.betaIps = fBeta.input.value.trim();
        } else if (item && item.md5) {
            // refused when someone else published in between
            headers.casMd5 = item.md5;
        }

        await busy(btn, box, async () => {
            await api.call(CONFIGS, { method: 'POST', form, headers });
            flash(asBeta ? 'Published as gray.' : 'Published.');
            go('/config', { dataId: form.dataId, group: form.group });
        });
    }

    main.appendChild(box);
    main.appendChild(h('form', { class: 'edit', onsubmit: e => {
        e.preventDefault();
        save(publish, false);
    } },
        h('div', { class: 'row' }, fId, fGroup, fType),
        h('div', { class: 'row' }, fApp, fDesc),
        fContent,
        h('div', { class: 'buttons' }, publish,
          h('a', { class: 'button', href: editing ? route('/config',
            { dataId: k.dataId, group: k.group }) : route('/configs') },
            'Cancel')),
        h('section', { class: 'panel' }, h('h2', null, 'Gray release'),
          fBeta, h('div', { class: 'buttons' }, gray, stop))));

    (editing ? fContent.input : fId.input).focus();
}

/* --- history, diff, rollback -------------------------------------------- */

export async function history(p, current) {
    const k = key(p);
    const pageNo = Math.max(1, parseInt(p.pageNo, 10) || 1);
    const pageSize = 20;
    const box = h('div');
    const main = page('History of ' + k.dataId,
        h('a', { class: 'button', href: route('/config',
            { dataId: k.dataId, group: k.group }) }, 'Back to item'));
    const view = h('section', { class: 'history-view' });

    main.appendChild(box);

    const [r, item] = await Promise.all([
        api.call(HISTORY, { query: { search: 'accurate', ...k,
                                     pageNo, pageSize } }),
        fetchItem(k)]);

    if (!current()) {
        return;
    }

    const ops = { I: 'created', U: 'updated', D: 'deleted' };

    main.appendChild(table('History', [
        { title: 'Record', render: x => x.id },
        { title: 'Change', render: x => (ops[String(x.opType).trim()]
                                         || x.opType)
                                        + (x.publishType === 'gray'
                                           ? ' (gray)' : '') },
        { title: 'By', render: x => x.srcUser || '' },
        { title: 'From', render: x => x.srcIp || '' },
        { title: 'When', render: x => formatTime(x.lastModifiedTime) },
        { title: 'Actions', class: 'acts', render: x => button('Compare',
            () => show(x.id)) },
    ], r.pageItems || [], 'No history.'));
    main.appendChild(pager(pageNo, pageSize, r.totalCount || 0,
        n => go('/config/history', { ...p, pageNo: n })));
    main.appendChild(view);

    async function show(nid) {
        clear(view);
        const out = h('div');
        view.appendChild(out);

        await busy(null, out, async () => {
            const rec = await api.call(HISTORY, { query: { ...k, nid } });
            if (!rec || typeof rec !== 'object') {
                out.appendChild(notice('error', 'No such record.'));
                return;
            }
            const now = item ? item.content || '' : '';
            const rollback = button('Roll back to record ' + nid,
                async e => {
                    if (!ask(`Publish the content of record ${nid} as`
                             + ` ${k.dataId}?`)) {
                        return;
                    }
                    await busy(e.target, out, async () => {
                        await api.call(CONFIGS, { method: 'POST', form: {
                            ...k, content: rec.content || '',
                            type: item && item.type ? item.type : undefined,
                            appName: rec.appName || undefined } });
                        flash('Rolled back to record ' + nid + '.');
                        go('/config', { dataId: k.dataId, group: k.group });
                    });
                }, 'primary');

            out.appendChild(h('h2', { tabindex: '-1' },
                              'Record ' + nid + ' against the current content'));
            out.appendChild(h('p', { class: 'hint' },
                'A record holds the content as it was before the change'
                + ' it names (a creation: the content it created).'));
            out.appendChild(sideBySide('Record ' + nid, rec.content || '',
                item ? 'Current' : 'Current (deleted)', now));
            out.appendChild(h('div', { class: 'buttons' }, rollback));
            out.querySelector('h2').focus();
        });
    }

    if (p.nid) {
        await show(p.nid);
    }
}

