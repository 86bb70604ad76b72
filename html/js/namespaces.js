// nacre console: namespaces (/nacos/v1/console/namespaces).

import * as api from './api.js';
import { h, page, field, table, button, busy, ask, flash } from './ui.js';
import { loadNamespaces } from './app.js';

const PATH = '/nacos/v1/console/namespaces';

export async function list(p, current) {
    const box = h('div');
    const main = page('Namespaces');
    const r = api.restData(await api.call(PATH));

    if (!current()) {
        return;
    }

    const again = async () => {
        await loadNamespaces();
        await list(p, current);
    };

    main.appendChild(box);
    main.appendChild(table('Namespaces', [
        { title: 'Name', render: n => n.namespaceShowName },
        { title: 'Id', class: 'mono', render: n => n.namespace || '(public)' },
        { title: 'Description', render: n => n.namespaceDesc || '' },
        { title: 'Configurations', class: 'num',
          render: n => n.configCount },
        { title: 'Quota', class: 'num', render: n => n.quota },
        { title: 'Actions', class: 'acts', render: n => (n.namespace === ''
            ? '' : [
            button('Edit', e => rename(e.target, n, box, again)), ' ',
            button('Delete', async e => {
                if (!ask('Delete the namespace ' + n.namespaceShowName
                         + '?')) {
                    return;
                }
                await busy(e.target, box, async () => {
                    const ok = await api.call(PATH, { method: 'DELETE',
                        query: { namespaceId: n.namespace } });
                    if (ok !== true) {
                        throw new Error('the namespace was not deleted');
                    }
                    if (api.namespace() === n.namespace) {
                        api.setNamespace('');
                    }
                    flash('Deleted ' + n.namespaceShowName + '.');
                    await again();
                });
            }, 'danger')]) },
    ], r || []));

    const out = h('div');
    const fId = field('Id (blank: generated)', 'customNamespaceId');
    const fName = field('Name', 'namespaceName', { required: true });
    const fDesc = field('Description', 'namespaceDesc');
    const submit = h('button', { type: 'submit' }, 'Create namespace');

    main.appendChild(h('section', { class: 'panel' },
        h('h2', null, 'New namespace'),
        h('form', { class: 'row', onsubmit: async e => {
            e.preventDefault();
            await busy(submit, out, async () => {
                const ok = await api.call(PATH, { method: 'POST', form: {
                    customNamespaceId: fId.input.value.trim(),
                    namespaceName: fName.input.value.trim(),
                    namespaceDesc: fDesc.input.value.trim() } });
                if (ok !== true) {
                    throw new Error('the namespace was not created');
                }
                flash('Created ' + fName.input.value.trim() + '.');
                await again();
            });
        } }, fId, fName, fDesc, submit), out));
}

async function rename(btn, n, box, again) {
    const name = window.prompt('Name of ' + (n.namespace), n.namespaceShowName);
    if (name === null) {
        return;
    }
    const desc = window.prompt('Description', n.namespaceDesc || '');
    if (desc === null) {
        return;
    }
    await busy(btn, box, async () => {
        await api.call(PATH, { method: 'PUT', form: {
            namespace: n.namespace, namespaceShowName: name,
            namespaceDesc: desc } });
        flash('Saved ' + name + '.');
        await again();
    });
}
