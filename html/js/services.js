// nacre console: the registry, through the endpoints Nacos' own console
// reads (/nacos/v1/ns/catalog/...) and the instance API clients use.

import * as api from './api.js';
import { h, page, field, table, pager, button, link, route, go, busy, ask,
         flash, notice } from './ui.js';

const NS = '/nacos/v1/ns';
const GROUP = 'DEFAULT_GROUP';
const SIZE = 100;                   // instances on a page

/* --- list --------------------------------------------------------------- */

export async function list(p, current) {
    const pageNo = Math.max(1, parseInt(p.pageNo, 10) || 1);
    const pageSize = 20;
    const box = h('div');
    const main = page('Services');

    const fName = field('Service name', 'serviceName', { value: p.name,
        placeholder: 'part of a name' });
    const fGroup = field('Group', 'groupName', { value: p.group });
    const fEmpty = field('Hide services without instances', 'hasIpCount',
        { type: 'checkbox', checked: p.hide === '1' });

    const search = n => go('/services', { name: fName.input.value.trim(),
        group: fGroup.input.value.trim(),
        hide: fEmpty.input.checked ? '1' : '', pageNo: n });

    main.appendChild(h('form', { class: 'search', role: 'search',
        onsubmit: e => { e.preventDefault(); search(1); } },
        fName, fGroup, fEmpty, h('button', { type: 'submit' }, 'Search')));
    main.appendChild(box);

    const r = await api.call(NS + '/catalog/services', { query: {
        pageNo, pageSize, namespaceId: api.namespace(),
        serviceNameParam: p.name || '', groupNameParam: p.group || '',
        hasIpCount: p.hide === '1' ? 'true' : 'false' } });

    if (!current()) {
        return;
    }

    main.appendChild(table('Services', [
        { title: 'Service', render: s => link(s.name, route('/service',
            { name: s.name, group: s.groupName })) },
        { title: 'Group', render: s => s.groupName },
        { title: 'Clusters', class: 'num', render: s => s.clusterCount },
        { title: 'Instances', class: 'num', render: s => s.ipCount },
        { title: 'Healthy', class: 'num', render: s => s.healthyInstanceCount },
        { title: 'Protection', render: s => (s.triggerFlag === 'true'
                                             ? 'triggered' : '') },
        { title: 'Actions', class: 'acts', render: s => button('Delete',
            async e => {
                if (!ask(`Delete the service ${s.name}?`)) {
                    return;
                }
                await busy(e.target, box, async () => {
                    await api.call(NS + '/service', { method: 'DELETE',
                        query: { serviceName: s.name, groupName: s.groupName,
                                 namespaceId: api.namespace() } });
                    flash('Deleted ' + s.name + '.');
                    await list(p, current);
                });
            }, 'danger') },
    ], r.serviceList || [], 'No service matches.'));
    main.appendChild(pager(pageNo, pageSize, r.count || 0, search));
    main.appendChild(createForm());
}

function createForm() {
    const out = h('div');
    const fName = field('Service name', 'name', { required: true });
    const fGroup = field('Group', 'group', { value: GROUP, required: true });
    const fThreshold = field('Protect threshold (0 to 1)', 'protect',
        { type: 'number', value: '0', min: '0', max: '1', step: '0.01' });
    const submit = h('button', { type: 'submit' }, 'Create service');

    return h('section', { class: 'panel' }, h('h2', null, 'New service'),
        h('form', { class: 'row', onsubmit: async e => {
            e.preventDefault();
            await busy(submit, out, async () => {
                await api.call(NS + '/service', { method: 'POST', form: {
                    serviceName: fName.input.value.trim(),
                    groupName: fGroup.input.value.trim(),
                    namespaceId: api.namespace(),
                    protectThreshold: fThreshold.input.value } });
                flash('Created ' + fName.input.value.trim() + '.');
                go('/service', { name: fName.input.value.trim(),
                                 group: fGroup.input.value.trim() });
            });
        } }, fName, fGroup, fThreshold, submit), out);
}

/* --- detail ------------------------------------------------------------- */

export async function detail(p, current) {
    const name = p.name;
    const group = p.group || GROUP;
    const pageNo = Math.max(1, parseInt(p.pageNo, 10) || 1);
    const box = h('div');
    const ids = { serviceName: name, groupName: group,
                  namespaceId: api.namespace() };
    const main = page('Service ' + name,
        button('Refresh', () => detail(p, current)));

    main.appendChild(box);

    const [svc, inst, subs] = await Promise.all([
        api.call(NS + '/catalog/service', { query: {
            serviceName: group + '@@' + name,
            namespaceId: api.namespace() } }),
        api.call(NS + '/catalog/instances', { query: { ...ids,
            pageNo, pageSize: SIZE } }),
        api.call(NS + '/service/subscribers', { query: { ...ids,
            pageNo: 1, pageSize: 100 } }).catch(e => ({ error: e })),
    ]);

    if (!current()) {
        return;
    }

    const s = svc.service || {};
    main.appendChild(h('dl', { class: 'props' },
        h('dt', null, 'Name'), h('dd', null, s.name),
        h('dt', null, 'Group'), h('dd', null, s.groupName),
        h('dt', null, 'Namespace'), h('dd', null, api.namespace() || 'public'),
        h('dt', null, 'Protect threshold'), h('dd', null,
            String(s.protectThreshold)),
        h('dt', null, 'Metadata'), h('dd', { class: 'mono' },
            JSON.stringify(s.metadata || {}))));

    main.appendChild(settings(s, ids, box, () => detail(p, current)));

    const instances = inst.list || [];
    // a cluster an instance names is shown even without a record of its own
    const clusters = (svc.clusters || []).slice();
    for (const i of instances) {
        if (!clusters.some(c => c.name === i.clusterName)) {
            clusters.push({ name: i.clusterName });
        }
    }

    const checker = name => {
        const c = clusters.find(x => x.name === name);
        return c && c.healthChecker ? c.healthChecker.type : '';
    };

    main.appendChild(h('h2', null, 'Clusters'));
    main.appendChild(table('Clusters', [
        { title: 'Cluster', render: c => c.name },
        { title: 'Health check', render: c => checkerForm(c, ids, box,
                                                          () => detail(p, current)) },
        { title: 'Instances' + ((inst.count || 0) > SIZE ? ' (this page)'
                                                           : ''),
          class: 'num', render: c => instances.filter(
            i => i.clusterName === c.name).length },
        { title: 'Metadata', class: 'mono', render: c =>
            JSON.stringify(c.metadata || {}) },
    ], clusters, 'No cluster.'));

    main.appendChild(h('h2', null, 'Instances'));
    main.appendChild(table('Instances', [
        { title: 'Address', class: 'mono', render: i => i.ip + ':' + i.port },
        { title: 'Cluster', render: i => i.clusterName },
        { title: 'Kind', render: i => (i.ephemeral ? 'ephemeral'
                                                   : 'persistent') },
        { title: 'Health', render: i => [h('span', {
            class: i.healthy ? 'good' : 'bad' },
            i.healthy ? 'healthy' : 'unhealthy'),
            !i.ephemeral && checker(i.clusterName) === 'NONE'
                ? [' ', button(i.healthy ? 'Mark unhealthy' : 'Mark healthy',
                    async e => {
                        await busy(e.target, box, async () => {
                            await api.call(NS + '/health/instance', {
                                method: 'PUT', form: { ...ids,
                                clusterName: i.clusterName, ip: i.ip,
                                port: i.port, healthy: !i.healthy } });
                            await detail(p, current);
                        });
                    })]
                : null] },
        { title: 'State', render: i => (i.enabled ? 'enabled' : 'disabled') },
        { title: 'Weight', render: i => weight(i, ids, box) },
        { title: 'Metadata', class: 'mono', render: i =>
            JSON.stringify(i.metadata || {}) },
        { title: 'Actions', class: 'acts', render: i => button(
            i.enabled ? 'Disable' : 'Enable', async e => {
                await busy(e.target, box, async () => {
                    await update(ids, i, { enabled: !i.enabled });
                    flash((i.enabled ? 'Disabled ' : 'Enabled ')
                          + i.ip + ':' + i.port + '.');
                    await detail(p, current);
                });
            }, i.enabled ? 'danger' : '') },
    ], instances, 'No instance.'));
    if ((inst.count || 0) > SIZE) {
        main.appendChild(pager(pageNo, SIZE, inst.count,
            n => go('/service', { ...p, pageNo: n })));
    }

    main.appendChild(h('h2', null, 'Subscribers'));
    if (subs.error) {
        main.appendChild(notice('error', subs.error.message));
    } else {
        main.appendChild(table('Subscribers', [
            { title: 'Address', class: 'mono',
              render: x => x.addrStr || (x.ip + ':' + x.port) },
            { title: 'Agent', render: x => x.agent || '' },
            { title: 'Application', render: x => x.app || '' },
        ], subs.subscribers || [], 'No subscriber.'));
    }
}

// a cluster's health checker: {"type":"TCP"}, {"type":"HTTP","path":..,
// "expectedResponseCode":..} or {"type":"NONE"} (health set by hand)
function checkerForm(c, ids, box, done) {
    const input = h('input', { type: 'text', class: 'checker mono',
        value: JSON.stringify(c.healthChecker || { type: 'TCP' }),
        'aria-label': 'Health checker of cluster ' + c.name });
    const save = button('Save', async e => {
        await busy(e.target, box, async () => {
            await api.call(NS + '/cluster', { method: 'PUT', form: {
                ...ids, clusterName: c.name,
                checkPort: c.defaultCheckPort || 80,
                useInstancePort4Check: c.useIPPort4Check !== false,
                healthChecker: input.value,
                metadata: JSON.stringify(c.metadata || {}) } });
            flash('Health check of cluster ' + c.name + ' saved.');
            await done();
        });
    });
    return h('span', { class: 'inline' }, input, save);
}

// protect threshold and metadata (PUT /nacos/v1/ns/service)
function settings(s, ids, box, done) {
    const fThreshold = field('Protect threshold (0 to 1)', 'protectThreshold',
        { type: 'number', value: String(s.protectThreshold || 0), min: '0',
          max: '1', step: '0.01' });
    const fMeta = field('Metadata (JSON object)', 'metadata',
        { value: JSON.stringify(s.metadata || {}) });
    const save = h('button', { type: 'submit' }, 'Save settings');

    return h('details', { class: 'panel' },
        h('summary', null, 'Edit the service\'s settings'),
        h('form', { class: 'row', onsubmit: async e => {
            e.preventDefault();
            await busy(save, box, async () => {
                JSON.parse(fMeta.input.value || '{}');
                await api.call(NS + '/service', { method: 'PUT', form: {
                    ...ids, protectThreshold: fThreshold.input.value,
                    metadata: fMeta.input.value } });
                flash('Saved the settings of ' + s.name + '.');
                await done();
            });
        } }, fThreshold, fMeta, save));
}

// what is named changes, the rest of the instance stays (PATCH)
function update(ids, i, what) {
    return api.call(NS + '/instance', { method: 'PATCH', form: {
        ...ids, clusterName: i.clusterName, ip: i.ip, port: i.port,
        ephemeral: i.ephemeral, ...what } });
}

function weight(i, ids, box) {
    const input = h('input', { type: 'number', min: '0', max: '10000',
        step: '0.1', value: String(i.weight), class: 'weight',
        'aria-label': 'Weight of ' + i.ip + ':' + i.port });
    const save = button('Save', async e => {
        await busy(e.target, box, async () => {
            await update(ids, i, { weight: input.value });
            i.weight = Number(input.value);
            flash('Weight of ' + i.ip + ':' + i.port + ' set to '
                  + input.value + '.');
        });
    });
    return h('span', { class: 'inline' }, input, save);
}
