// nacre: the official npm `consul` client against nacre's /v1/kv.
// Usage: node consul_kv.js PORT; prints one JSON object of what it saw.

'use strict';

const Consul = require('consul');

async function main() {
    const port = process.argv[2];
    const consul = new Consul({ host: '127.0.0.1', port: port });
    const out = {};

    out.set = await consul.kv.set('app/config', 'v1');
    const got = await consul.kv.get('app/config');
    out.get = { Key: got.Key, Value: got.Value, Flags: got.Flags };
    const index = got.ModifyIndex;

    out.casStale = await consul.kv.set({ key: 'app/config', value: 'x',
                                         cas: index - 1 });
    out.casOk = await consul.kv.set({ key: 'app/config', value: 'v2',
                                      cas: index });
    out.flags = await consul.kv.set({ key: 'app/flagged', value: 'f',
                                      flags: 7 });
    out.flagsRead = (await consul.kv.get('app/flagged')).Flags;

    await consul.kv.set('app/sub/a', 'a');
    await consul.kv.set('app/sub/b', 'b');
    out.keys = await consul.kv.keys('app/');
    out.keysSep = await consul.kv.keys({ key: 'app/', separator: '/' });
    out.recurse = (await consul.kv.get({ key: 'app/', recurse: true }))
        .map((e) => e.Key + '=' + e.Value);

    out.missing = await consul.kv.get('nope') === undefined;

    // a blocking query: answered by a change made while it waits
    const cur = await consul.kv.get('app/config');
    const blocked = consul.kv.get({ key: 'app/config',
                                    index: cur.ModifyIndex, wait: '5s' });
    setTimeout(() => consul.kv.set('app/config', 'v3'), 200);
    out.blocked = (await blocked).Value;

    out.del = await consul.kv.del('app/flagged');
    out.afterDel = await consul.kv.get('app/flagged') === undefined;
    out.delTree = await consul.kv.del({ key: 'app/sub/', recurse: true });
    out.afterTree = await consul.kv.keys('app/');

    process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
    process.stdout.write(JSON.stringify({ error: String(e) }) + '\n');
    process.exit(1);
});
