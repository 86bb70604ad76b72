// nacre console: the cluster as this member's consensus process sees it
// (GET /v1/cluster/raft), and membership changes (/v1/cluster/members/).

import * as api from './api.js';
import { h, page, field, table, button, busy, ask, flash, notice }
    from './ui.js';

export async function show(p, current) {
    const box = h('div');
    const main = page('Cluster', button('Refresh', () => show(p, current)));

    main.appendChild(box);

    const r = await api.call('/v1/cluster/raft');

    if (!current()) {
        return;
    }

    const standalone = r.members && r.members.length === 1 && !r.self;

    main.appendChild(h('dl', { class: 'props' },
        h('dt', null, 'This member'), h('dd', { class: 'mono' },
            (r.self || 'standalone') + ' (id ' + r.id + ')'),
        h('dt', null, 'Role'), h('dd', { id: 'raft-role' }, r.role),
        h('dt', null, 'Term'), h('dd', { id: 'raft-term' }, String(r.term)),
        h('dt', null, 'Leader'), h('dd', { class: 'mono' },
            r.leader || (r.leader_id ? 'id ' + r.leader_id : 'none')),
        h('dt', null, 'Commit index'), h('dd', null, String(r.commit)),
        h('dt', null, 'Applied index'), h('dd', null, String(r.applied)),
        h('dt', null, 'Last log index'), h('dd', null, String(r.last_index)),
        h('dt', null, 'Snapshot index'), h('dd', null,
            String(r.snapshot_index)),
        r.fsync ? [h('dt', null, 'Log fsync'), h('dd', null,
            `p50 ${r.fsync.p50_us} µs, p99 ${r.fsync.p99_us} µs,`
            + ` max ${r.fsync.max_us} µs over ${r.fsync.count} writes`)]
            : null));

    main.appendChild(h('h2', null, 'Members'));
    if (r.role !== 'leader') {
        main.appendChild(h('p', { class: 'hint' },
            'Match and lag are known on the leader only.'));
    }
    main.appendChild(table('Members', [
        { title: 'Id', class: 'mono', render: m => m.id },
        { title: 'Peer address', class: 'mono',
          render: m => m.address || '(standalone)' },
        { title: 'Role', render: m => m.role },
        { title: 'Match index', class: 'num', render: m =>
            m.match === undefined || m.match === null ? '' : m.match },
        { title: 'Lag', class: 'num', render: m =>
            m.lag === undefined || m.lag === null ? '' : m.lag },
        { title: 'Connected', render: m => (m.connected ? 'yes' : 'no') },
        { title: 'Actions', class: 'acts', render: m => (standalone ? ''
            : button('Remove', async e => {
                if (!ask(`Remove member ${m.address || m.id} from the`
                         + ' cluster?')) {
                    return;
                }
                await busy(e.target, box, async () => {
                    await api.call('/v1/cluster/members/'
                        + encodeURIComponent(m.address || m.id),
                        { method: 'DELETE' });
                    flash('Removed ' + (m.address || m.id) + '.');
                    await show(p, current);
                });
            }, 'danger')) },
    ], r.members || []));

    const out = h('div');
    const fAddr = field('Peer address of the new member', 'address',
        { placeholder: '10.0.0.4:7848', required: true,
          hint: 'Start it first with the same secret and a cluster.members'
                + ' list that names it.' });
    const add = h('button', { type: 'submit' }, 'Add member');

    main.appendChild(h('section', { class: 'panel' },
        h('h2', null, 'Add a member'),
        standalone ? notice('ok', 'This node runs standalone (no'
            + ' cluster.self): members are added to a configured cluster.')
            : null,
        h('form', { class: 'row', onsubmit: async e => {
            e.preventDefault();
            await busy(add, out, async () => {
                await api.call('/v1/cluster/members/'
                    + encodeURIComponent(fAddr.input.value.trim()),
                    { method: 'PUT' });
                flash('Added ' + fAddr.input.value.trim() + '.');
                await show(p, current);
            });
        } }, fAddr, add), out));
}
