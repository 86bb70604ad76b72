// nacre: the official npm `nacos` client (2.6.3) against nacre's naming API.
// Usage: node nacos_naming.js SERVERS NAMESPACE USER PASSWORD SERVICE
// (SERVERS: host:port,...); prints one JSON object of what it saw.  It
// registers, lists, subscribes (a UDP push must bring the change before the
// next poll would), deregisters, and leaves one instance registered whose
// beats stop when it exits: the caller watches that one expire.

'use strict';

const { NacosNamingClient } = require('nacos');

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// resolves with the first host list the subscriber sees that pred accepts
function waitFor(state, pred, ms) {
    return new Promise((resolve) => {
        const t = setTimeout(() => { state.want = null; resolve(null); }, ms);
        const check = (hosts) => {
            if (pred(hosts)) {
                clearTimeout(t);
                state.want = null;
                resolve(hosts);
                return true;
            }
            return false;
        };
        if (!check(state.hosts)) {
            state.want = check;
        }
    });
}

const ips = (hosts) => (hosts || []).map((h) => h.ip + ':' + h.port).sort()
    .join(' ');

async function main() {
    const [servers, ns, username, password, service] = process.argv.slice(2);
    const out = { pushes: 0 };

    const logger = {
        info(fmt) {
            if (/received push data/.test(fmt)) {
                out.pushes++;
            }
        },
        warn() {}, error() {}, debug() {},
    };

    const client = new NacosNamingClient({
        logger: logger,
        serverList: servers,
        namespace: ns,
        username: username,
        password: password,
    });

    await client.ready();

    const a = { ip: '10.7.0.1', port: 8080, metadata: { zone: 'a' } };
    const b = { ip: '10.7.0.2', port: 8080 };

    await client.registerInstance(service, a);
    const registered = Date.now();
    await client.registerInstance(service, b);

    out.all = ips(await client.getAllInstances(service, 'DEFAULT_GROUP', '',
                                               false));
    const healthy = await client.selectInstances(service, 'DEFAULT_GROUP', '',
                                                 true, false);
    out.healthy = ips(healthy);
    out.metadata = (healthy.find((h) => h.ip === '10.7.0.1') || {}).metadata;

    const state = { hosts: [], want: null };
    client.subscribe(service, (hosts) => {
        state.hosts = hosts;
        if (state.want) {
            state.want(hosts);
        }
    });

    out.first = ips(await waitFor(state, (h) => h.length === 2, 15000));

    // a registration from elsewhere reaches the subscriber: pushed, so well
    // before the 10 s poll
    const other = new NacosNamingClient({
        logger: { info() {}, warn() {}, error() {}, debug() {} },
        serverList: servers, namespace: ns, username: username,
        password: password,
    });
    await other.ready();

    await sleep(1500);
    const t0 = Date.now();
    await other.registerInstance(service, { ip: '10.7.0.3', port: 8080 });
    out.added = ips(await waitFor(state, (h) => h.length === 3, 9000));
    out.addedMs = Date.now() - t0;

    await other.deregisterInstance(service, { ip: '10.7.0.3', port: 8080 });
    out.removed = ips(await waitFor(state, (h) => h.length === 2, 9000));

    await client.deregisterInstance(service, b);
    out.deregistered = ips(await waitFor(state, (h) => h.length === 1, 9000));

    out.status = await client.getServerStatus();

    // a beats (from 10 s after the client started, then every 5 s): it
    // outlives the 14 s its registration alone is worth
    await sleep(Math.max(0, 17000 - (Date.now() - registered)));
    out.kept = ips(await client.selectInstances(service, 'DEFAULT_GROUP', '',
                                                true, false));

    // once we go, its beats stop and its lease runs out
    await other.close();
    await client.close();

    console.log(JSON.stringify(out));
}

main().then(() => process.exit(0), (err) => {
    console.log(JSON.stringify({ error: String(err && err.stack || err) }));
    process.exit(0);
});
