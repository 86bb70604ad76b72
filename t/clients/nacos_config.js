// nacre: the official npm `nacos` client (2.6.3) against nacre's config API.
// Usage: node nacos_config.js SERVERS NAMESPACE USER PASSWORD LEADER_PORT
// (SERVERS: host:port,...; NAMESPACE "-" for none); prints one JSON object
// of what it saw.  The client's cluster leader gets its own name and port,
// so that test runs never share one.

'use strict';

const { NacosConfigClient } = require('nacos');
const clusterClient = require('cluster-client');

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

// the next value the subscriber sees, or 'timeout'
function next(queue, ms) {
    return new Promise((resolve) => {
        const t = setTimeout(() => resolve('timeout'), ms);
        queue.waiting = (v) => { clearTimeout(t); resolve(v); };
        if (queue.items.length) {
            queue.waiting(queue.items.shift());
        }
    });
}

async function main() {
    const [servers, ns, username, password, leaderPort] = process.argv.slice(2);
    const out = {};

    const client = new NacosConfigClient({
        serverAddr: servers,
        namespace: ns === '-' ? '' : ns,
        username: username,
        password: password,
        requestTimeout: 6000,
        cluster: (DataClient, options) => clusterClient(DataClient,
            Object.assign({}, options, {
                name: 'nacre-test-' + leaderPort,
                port: Number(leaderPort),
            })),
    });

    await client.ready();

    const dataId = 'node-client.yaml';
    const group = 'DEFAULT_GROUP';

    out.publish = await client.publishSingle(dataId, group, 'v: 1\n');
    out.get = await client.getConfig(dataId, group);

    out.unicode = await client.publishSingle('unicode.txt', group,
                                             'héllo wörld ✓ 配置');
    out.unicodeGet = await client.getConfig('unicode.txt', group);

    // subscribe: the current content first, then every change
    const queue = { items: [], waiting: null };
    client.subscribe({ dataId: dataId, group: group }, (content) => {
        if (queue.waiting) {
            const w = queue.waiting;
            queue.waiting = null;
            w(content);
        } else {
            queue.items.push(content);
        }
    });

    out.first = await next(queue, 10000);

    await sleep(500);
    await client.publishSingle(dataId, group, 'v: 2\n');
    out.changed = await next(queue, 15000);

    await client.publishSingle(dataId, group, 'v: 3\n');
    out.changedAgain = await next(queue, 15000);

    out.remove = await client.remove(dataId, group);
    out.removed = await next(queue, 15000);
    out.getRemoved = await client.getConfig(dataId, group);

    client.close();

    return out;
}

main().then((out) => {
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
}, (err) => {
    process.stdout.write(JSON.stringify({ error: String(err && err.stack || err) }));
    process.exit(0);
});
