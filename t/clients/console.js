// nacre: the console driven in headless Chromium (playwright-core), for
// t/console.t.  Argument: a JSON object {base, short, gateway, password,
// shots, chromium}.  Each step does what an operator does and records
// what the page then shows; t/console.t asserts on those facts.  Prints
// one JSON object: {facts: {...}, errors: [...], ms}.

'use strict';

const http = require('http');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);
const facts = {};
const errors = [];
const started = Date.now();

function shot(page, name) {
    return page.screenshot({ path: `${cfg.shots}/${name}.png`,
                             fullPage: true });
}

async function step(name, fn) {
    try {
        await fn();
    } catch (e) {
        errors.push(`${name}: ${e.message.split('\n')[0]}`);
    }
}

async function text(page, sel) {
    return (await page.locator(sel).first().textContent({ timeout: 5000 }))
        .replace(/\s+/g, ' ').trim();
}

// the lines of a listing, as shown
function lines(page) {
    return page.locator('pre.listing').first().locator('.line')
        .allTextContents().then(l => l.join('\n'));
}

// the cells of a table row, one space apart
async function row(loc) {
    return (await loc.first().locator('td').allTextContents())
        .map(c => c.replace(/\s+/g, ' ').trim()).join(' ');
}

// inputs, selects and textareas of the page that no label names
function unlabelled(page) {
    return page.evaluate(() => [...document.querySelectorAll(
        'main input, main select, main textarea, header select')]
        .filter(e => !(e.labels && e.labels.length)
                     && !e.getAttribute('aria-label'))
        .map(e => e.name || e.id));
}

async function login(page, base, password, user) {
    await page.goto(base + '/nacos/');
    await page.waitForSelector('input[name=password]');
    await page.fill('input[name=username]', user || 'nacos');
    await page.fill('input[name=password]', password);
    await page.press('input[name=password]', 'Enter');
}

// waits for the app to finish rendering a page at path after action:
// a new render (main's data-seq grows) with its data (no aria-busy)
async function settle(page, path, action) {
    const before = await page.evaluate(() =>
        Number(document.getElementById('main').dataset.seq || 0));
    await action();
    await page.waitForFunction(([b, p]) => {
        const m = document.getElementById('main');
        return Number(m.dataset.seq || 0) > b && m.dataset.path === p
            && !m.hasAttribute('aria-busy');
    }, [before, path]);
}

// to a page of the console, by its address (where it is already: again)
async function open(page, hash) {
    const url = cfg.base + '/nacos/#' + hash;
    const path = hash.split('?')[0];

    if (page.url() !== url) {
        return settle(page, path, () => page.goto(url));
    }

    await page.reload();
    await page.waitForFunction(p => {
        const m = document.getElementById('main');
        return m.dataset.path === p && !m.hasAttribute('aria-busy');
    }, path);
}

// the API, with the console's token, for what a client does meanwhile
async function apiCall(page, method, path, form) {
    const token = await page.evaluate(() =>
        JSON.parse(sessionStorage.getItem('nacre.session')).token);
    const res = await fetch(cfg.base + path, {
        method,
        headers: { accessToken: token,
                   'Content-Type': 'application/x-www-form-urlencoded' },
        body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return res.status + ' ' + (await res.text());
}

(async () => {
    // the instance the test registers, behind the gateway
    const backend = http.createServer((req, res) => {
        res.end('hello from shop ' + req.url);
    });
    await new Promise(ok => backend.listen(cfg.backendPort, '127.0.0.1', ok));

    const browser = await chromium.launch({
        executablePath: cfg.chromium, headless: true,
        args: ['--no-sandbox', '--disable-gpu'] });
    const context = await browser.newContext({
        viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const base = cfg.base;

    context.setDefaultTimeout(8000);
    page.on('pageerror', e => errors.push('page error: ' + e.message));
    page.on('console', m => {
        // API refusals are logged by the browser too: those are expected
        if (m.type() === 'error' && !/^Failed to load resource/.test(m.text()))
        {
            errors.push('console: ' + m.text());
        }
    });
    page.on('dialog', d => d.accept(d.type() === 'prompt'
                                    ? cfg.newPassword : undefined));

    /* log in: a wrong password first */

    await step('wrong password', async () => {
        await login(page, base, 'not-the-password');
        await page.waitForSelector('.notice.error');
        facts.wrong_password = await text(page, '.notice.error');
        facts.wrong_password_hash = new URL(page.url()).hash;
        facts.unlabelled_login = await unlabelled(page);
        await shot(page, 'login');
    });

    await step('login', async () => {
        await page.fill('input[name=password]', cfg.password);
        await settle(page, '/configs',
            () => page.click('form.login button[type=submit]'));
        facts.after_login = await text(page, 'h1');
        facts.session = await page.evaluate(() =>
            !!JSON.parse(sessionStorage.getItem('nacre.session')).token);
    });

    /* the configuration list: first paint with 10,000 items, paging */

    await step('config list', async () => {
        await open(page, '/configs?mode=blur');
        await page.reload();
        await page.waitForSelector('main[data-path="/configs"]'
                                   + ':not([aria-busy]) table tbody tr');
        facts.list_paint_ms = await page.evaluate(() => {
            const m = performance.getEntriesByName('nacre:configs-rendered');
            return m.length ? Math.round(m[m.length - 1].startTime) : -1;
        });
        facts.list_rows = await page.locator('main table tbody tr').count();
        facts.list_pager = await text(page, '.pager span');
        facts.unlabelled_configs = await unlabelled(page);
        await shot(page, 'configs');

        await settle(page, '/configs',
            () => page.click('.pager button:has-text("Next")'));
        facts.list_page2 = await text(page, 'main table tbody tr td');
    });

    await step('config search', async () => {
        await page.fill('input[name=dataId]', 'item-0424');
        await settle(page, '/configs',
            () => page.click('form.search button[type=submit]'));
        facts.search_rows = await page.locator('main table tbody tr')
            .allTextContents();
    });

    /* create, edit, detail */

    await step('config create', async () => {
        await open(page, '/configs');
        await settle(page, '/config/edit',
            () => page.click('a:has-text("Create configuration")'));
        await page.fill('input[name=dataId]', 'console.yaml');
        await page.selectOption('select[name=type]', 'yaml');
        await page.fill('input[name=appName]', 'shop');
        await page.fill('textarea[name=content]', 'a: 1\nb: 2');
        facts.unlabelled_edit = await unlabelled(page);
        await shot(page, 'config-edit');
        await settle(page, '/config',
            () => page.click('form.edit button[type=submit]'));
        facts.created_content = await lines(page);
        facts.created_type = await text(page,
            'dl.props dt:has-text("Type") + dd');
    });

    await step('config invalid json', async () => {
        await open(page, '/config/edit');
        await page.fill('input[name=dataId]', 'broken.json');
        await page.selectOption('select[name=type]', 'json');
        await page.fill('textarea[name=content]', '{"a": ');
        await page.click('form.edit button[type=submit]');
        await page.waitForSelector('.notice.error');
        facts.invalid_json = await text(page, '.notice.error');
    });

    await step('config edit', async () => {
        await open(page, '/config/edit?dataId=console.yaml'
                         + '&group=DEFAULT_GROUP');
        facts.edit_loaded = await page.inputValue('textarea[name=content]');
        await page.fill('textarea[name=content]', 'a: 1\nb: 3\nc: 4');
        await settle(page, '/config',
            () => page.click('form.edit button[type=submit]'));
        facts.edited_content = await lines(page);
        await shot(page, 'config-detail');
    });

    /* the listeners of a config: a client long-polls it meanwhile */

    await step('config listeners', async () => {
        const token = await page.evaluate(() =>
            JSON.parse(sessionStorage.getItem('nacre.session')).token);
        const md5 = require('crypto').createHash('md5')
            .update('a: 1\nb: 3\nc: 4').digest('hex');
        const poll = new AbortController();
        fetch(cfg.base + '/nacos/v1/cs/configs/listener', {
            method: 'POST', signal: poll.signal,
            headers: { accessToken: token, 'Long-Pulling-Timeout': '30000',
                       'X-Forwarded-For': '10.1.2.3',
                       'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ 'Listening-Configs':
                `console.yaml\x02DEFAULT_GROUP\x02${md5}\x01` }).toString(),
        }).catch(() => {});
        // parked once the server has it: the API lists it
        for (let i = 0; i < 50; i++) {
            const r = await apiCall(page, 'GET', '/nacos/v1/cs/configs/'
                + 'listener?dataId=console.yaml&group=DEFAULT_GROUP');
            if (r.includes('10.1.2.3')) {
                break;
            }
            await new Promise(ok => setTimeout(ok, 100));
        }
        await open(page, '/config?dataId=console.yaml&group=DEFAULT_GROUP');
        facts.listeners = await page.locator('#listeners tbody tr')
            .allTextContents();
        await shot(page, 'config-listeners');
        poll.abort();
    });

    /* history: the diff, then a rollback */

    await step('history', async () => {
        await settle(page, '/config/history',
            () => page.click('main a:has-text("History")'));
        facts.history_rows = await page.locator('main table tbody tr')
            .allTextContents();
        // the newest record: the content before the edit
        await page.locator('main table tbody tr').first()
            .locator('button:has-text("Compare")').click();
        await page.waitForSelector('.diff');
        facts.diff_summary = await text(page, '.diffsum');
        facts.diff_removed = await page.locator('.diff td.del')
            .allTextContents();
        facts.diff_added = await page.locator('.diff td.add')
            .allTextContents();
        await shot(page, 'config-history');
        await settle(page, '/config',
            () => page.click('button:has-text("Roll back to record")'));
        facts.rolled_back = await lines(page);
    });

    /* gray release */

    await step('gray', async () => {
        await open(page, '/config/edit?dataId=console.yaml'
                         + '&group=DEFAULT_GROUP');
        await page.fill('textarea[name=content]', 'a: gray');
        await page.fill('input[name=betaIps]', '10.1.1.1,10.1.1.2');
        await settle(page, '/config',
            () => page.click('button:has-text("Publish as gray")'));
        facts.gray = await text(page, '#gray');
        await open(page, '/config/edit?dataId=console.yaml'
                         + '&group=DEFAULT_GROUP');
        await settle(page, '/config',
            () => page.click('button:has-text("Stop gray release")'));
        facts.gray_stopped = await page.locator('#gray').count();
    });

    /* delete */

    await step('config delete', async () => {
        facts.scratch = await apiCall(page, 'POST', '/nacos/v1/cs/configs',
            { dataId: 'scratch.txt', group: 'DEFAULT_GROUP', content: 'x' });
        await open(page, '/configs?dataId=scratch.txt&mode=accurate');
        await page.click('main table tbody tr button:has-text("Delete")');
        await page.waitForSelector('p.empty');
        facts.deleted = await text(page, 'p.empty');
        await settle(page, '/config/history',
            () => page.click('main a:has-text("History of scratch.txt")'));
        facts.deleted_history = await page.locator('main table tbody tr')
            .allTextContents();
    });

    /* services: an instance registered through the API appears */

    await step('services', async () => {
        facts.register = await apiCall(page, 'POST', '/nacos/v1/ns/instance',
            { serviceName: 'shop', ip: '127.0.0.1', port: cfg.backendPort,
              ephemeral: 'false', weight: '1' });
        await open(page, '/services');
        facts.services = await page.locator('main table tbody tr')
            .allTextContents();
        facts.unlabelled_services = await unlabelled(page);
        await shot(page, 'services');
        await settle(page, '/service',
            () => page.click('main table a:has-text("shop")'));
        facts.instance = await row(page.locator(
            'h2:has-text("Instances") + table tbody tr'));
        await page.click('button:has-text("Disable")');
        await page.waitForSelector('button:has-text("Enable")');
        facts.disabled = await row(page.locator(
            'h2:has-text("Instances") + table tbody tr'));
        await page.fill('input.weight', '3');
        await page.click('h2:has-text("Instances") + table'
            + ' td .inline button:has-text("Save")');
        await page.waitForSelector('#status:has-text("Weight")');
        facts.weight_flash = await text(page, '#status');
        facts.unlabelled_service = await unlabelled(page);
        await shot(page, 'service-detail');
        // health by hand: the cluster's checker NONE first
        await page.fill('h2:has-text("Clusters") + table input.checker',
                        '{"type":"NONE"}');
        await page.click(
            'h2:has-text("Clusters") + table button:has-text("Save")');
        await page.waitForSelector('button:has-text("Mark unhealthy")');
        await page.click('button:has-text("Mark unhealthy")');
        await page.waitForSelector('button:has-text("Mark healthy")');
        facts.by_hand = await row(page.locator(
            'h2:has-text("Instances") + table tbody tr'));

        await page.click('summary:has-text("settings")');
        await page.fill('input[name=protectThreshold]', '0.5');
        await page.fill('input[name=metadata]', '{"team":"shop"}');
        await page.click('button:has-text("Save settings")');
        await page.waitForSelector('dl.props dd:text-is("0.5")');
        facts.service_props = await text(page, 'dl.props');
    });

    /* cluster */

    await step('cluster', async () => {
        await open(page, '/cluster');
        facts.role = await text(page, '#raft-role');
        facts.term = await text(page, '#raft-term');
        facts.members = await page.locator('h2:has-text("Members") ~ table'
            + ' tbody tr').allTextContents();
        facts.cluster_props = await text(page, 'dl.props');
        await shot(page, 'cluster');
    });

    await step('cluster of three', async () => {
        const p3 = await context.newPage();
        p3.on('dialog', d => d.accept());
        await login(p3, cfg.leader, cfg.password);
        await p3.waitForSelector('main[data-path="/configs"]');
        await settle(p3, '/cluster',
            () => p3.goto(cfg.leader + '/nacos/#/cluster'));
        facts.cluster_role = await text(p3, '#raft-role');
        facts.cluster_self = await text(p3,
            'dl.props dt:has-text("This member") + dd');
        const rows = p3.locator('h2:has-text("Members") ~ table tbody tr');
        facts.cluster_members = [];
        for (let i = 0; i < await rows.count(); i++) {
            // id, address, role, match, lag, connected
            const c = await rows.nth(i).locator('td').allTextContents();
            facts.cluster_members.push(c.slice(2, 6).join(' '));
        }
        await shot(p3, 'cluster-3');

        // a follower removed from the cluster
        const follower = rows.filter({ hasText: 'follower' }).first();
        facts.removed = (await follower.locator('td').nth(1).textContent())
            .trim();
        await follower.locator('button:has-text("Remove")').click();
        await p3.waitForSelector('#status:has-text("Removed")');
        facts.cluster_after = await p3.locator(
            'h2:has-text("Members") ~ table tbody tr td:nth-child(2)')
            .allTextContents();
        await p3.close();
    });

    /* gateway: validation errors shown, a route made, its counters */

    await step('gateway', async () => {
        facts.register_web = await apiCall(page, 'POST',
            '/nacos/v1/ns/instance', { serviceName: 'web', ip: '127.0.0.1',
            port: cfg.backendPort, ephemeral: 'false' });
        await open(page, '/gateway/edit');
        await page.fill('input[name=id]', 'shop');
        await page.fill('textarea[name=route]', '{"path": "/shop/",');
        await page.click('form.edit button[type=submit]');
        await page.waitForSelector('#route-errors .notice.error');
        facts.route_bad_json = await text(page, '#route-errors');

        await page.fill('textarea[name=route]', JSON.stringify({
            path: '(', path_type: 'regex',
            upstream: { service: { name: 'shop' } } }));
        await page.click('form.edit button[type=submit]');
        await page.waitForSelector('#route-errors .notice.error');
        facts.route_bad_regex = await text(page, '#route-errors');
        await shot(page, 'gateway-edit-error');

        // the common fields, written into the JSON
        await page.fill('input[name=q-path]', '/shop/');
        await page.selectOption('select[name=q-path-type]', 'prefix');
        await page.fill('input[name=q-service]', 'web');
        await page.check('input[name=q-strip]');
        await page.click('button:has-text("Write into the JSON")');
        facts.route_json = JSON.parse(
            await page.inputValue('textarea[name=route]'));
        facts.unlabelled_gateway = await unlabelled(page);
        await settle(page, '/gateway',
            () => page.click('form.edit button[type=submit]'));

        for (let i = 0; i < 3; i++) {
            const r = await fetch(cfg.gateway + '/shop/hello');
            facts['proxied' + i] = r.status + ' ' + (await r.text());
        }

        await page.evaluate(() => {
            document.querySelector('main table').dataset.stale = '1';
        });
        await page.click('button:has-text("Refresh counters")');
        await page.waitForSelector('main table:not([data-stale]) tbody tr');
        facts.routes = await page.locator('main table tbody tr')
            .allTextContents();
        facts.route_cells = await page.locator('main table tbody tr')
            .first().locator('td').allTextContents();
        await shot(page, 'gateway');
    });

    /* users, roles, permissions */

    await step('users', async () => {
        await open(page, '/users');
        await page.fill('section.panel input[name=username]', 'alice');
        await page.fill('section.panel input[name=password]', 'alice-pass-1');
        await page.click('section.panel button:has-text("Create user")');
        await page.waitForSelector('main table td:text-is("alice")');
        facts.users = await page.locator('main table tbody tr')
            .allTextContents();
        await page.fill('section.panel input[name=username]', 'alice');
        await page.fill('section.panel input[name=password]', 'again-pass-1');
        await page.click('section.panel button:has-text("Create user")');
        await page.waitForSelector('section.panel .notice.error');
        facts.user_exists = await text(page, 'section.panel .notice.error');
        await page.locator('main table tr', { hasText: 'alice' })
            .locator('button:has-text("Change password")').click();
        await page.waitForSelector('#status:has-text("Password of alice")');
        facts.user_flash = await text(page, '#status');
        facts.unlabelled_users = await unlabelled(page);
        await shot(page, 'users');

        await open(page, '/roles');
        await page.fill('section.panel input[name=role]', 'shop-dev');
        await page.fill('section.panel input[name=username]', 'alice');
        await page.click('section.panel button[type=submit]');
        await page.waitForSelector('main table td:text-is("shop-dev")');
        facts.roles = await page.locator('main table tbody tr')
            .allTextContents();
        await shot(page, 'roles');

        await open(page, '/permissions');
        await page.fill('section.panel input[name=role]', 'shop-dev');
        await page.fill('section.panel input[name=resource]',
                        ':DEFAULT_GROUP:config/*');
        await page.selectOption('section.panel select[name=action]', 'rw');
        await page.click('section.panel button[type=submit]');
        await page.waitForSelector('main table td:text-is("shop-dev")');
        facts.permissions = await page.locator('main table tbody tr')
            .allTextContents();
        await shot(page, 'permissions');

        // a user that is made and then deleted
        await open(page, '/users');
        await page.fill('section.panel input[name=username]', 'bob');
        await page.fill('section.panel input[name=password]', 'bob-pass-12');
        await page.click('section.panel button:has-text("Create user")');
        await page.waitForSelector('main table td:text-is("bob")');
        await page.locator('main table tr', { hasText: 'bob' })
            .locator('button:has-text("Delete")').click();
        await page.waitForSelector('#status:has-text("Deleted the user bob")');
        facts.users_after = await page.locator('main table tbody tr')
            .allTextContents();
    });

    /* a user without the admin role: what needs it is refused in place */

    await step('non-admin', async () => {
        const p4 = await context.newPage();
        await login(p4, cfg.base, cfg.newPassword, 'alice');
        await p4.waitForSelector('main[data-path="/configs"]'
                                 + ':not([aria-busy])');
        facts.alice_whoami = await text(p4, '#whoami');
        await settle(p4, '/users',
            () => p4.goto(cfg.base + '/nacos/#/users'));
        facts.alice_users = await text(p4, 'main .notice.error');
        facts.alice_hash = new URL(p4.url()).hash;
        await p4.close();
    });

    /* a permission and a role taken back */

    await step('revoke', async () => {
        await open(page, '/permissions');
        await page.locator('main table tr', { hasText: 'shop-dev' })
            .locator('button:has-text("Delete")').click();
        await page.waitForSelector('#status:has-text("Deleted the'
                                   + ' permission")');
        facts.permissions_after = await page.locator('main table tbody tr')
            .allTextContents().catch(() => []);
        facts.permissions_empty = await page.locator('main p.empty')
            .count();
        await open(page, '/roles');
        await page.locator('main table tr', { hasText: 'shop-dev' })
            .locator('button:has-text("Delete")').click();
        await page.waitForSelector('#status:has-text("Deleted the role")');
        facts.roles_after = await page.locator('main table tbody tr')
            .allTextContents();
    });

    /* namespaces */

    await step('namespaces', async () => {
        await open(page, '/namespaces');
        await page.fill('input[name=customNamespaceId]', 'staging');
        await page.fill('input[name=namespaceName]', 'Staging');
        await page.fill('input[name=namespaceDesc]', 'before production');
        await page.click('section.panel button[type=submit]');
        await page.waitForSelector('main table td:text-is("staging")');
        facts.namespaces = await page.locator('main table tbody tr')
            .allTextContents();
        facts.ns_options = await page.locator('#namespace option')
            .allTextContents();
        await shot(page, 'namespaces');
    });

    /* the namespace selector: the pages work in the chosen one */

    await step('namespace switch', async () => {
        await open(page, '/configs');
        await settle(page, '/configs',
            () => page.selectOption('#namespace', 'staging'));
        facts.ns_configs = await text(page, 'main p.empty');
        await settle(page, '/config/edit',
            () => page.click('a:has-text("Create configuration")'));
        await page.fill('input[name=dataId]', 'staging.properties');
        await page.fill('textarea[name=content]', 'stage=1');
        await settle(page, '/config',
            () => page.click('form.edit button[type=submit]'));
        facts.ns_item = await text(page,
            'dl.props dt:has-text("Namespace") + dd');

        // export the namespace: a zip
        await open(page, '/configs');
        const [dl] = await Promise.all([page.waitForEvent('download'),
            page.click('button:has-text("Export")')]);
        const zip = `${cfg.shots}/export-staging.zip`;
        await dl.saveAs(zip);
        facts.export_name = dl.suggestedFilename();
        facts.export_head = require('fs').readFileSync(zip)
            .subarray(0, 2).toString();

        await settle(page, '/configs',
            () => page.selectOption('#namespace', ''));
        await open(page, '/config?dataId=staging.properties');
        facts.ns_public = await text(page, 'main .notice.error');

        // and import it into the public one
        await open(page, '/configs');
        await page.setInputFiles('#import input[type=file]', zip);
        await page.selectOption('#import select[name=policy]', 'SKIP');
        await page.click('#import button[type=submit]');
        await page.waitForSelector('#import .notice');
        facts.imported = await text(page, '#import .notice');
    });

    /* a laptop screen: nothing wider than the window */

    await step('narrow', async () => {
        await page.setViewportSize({ width: 1024, height: 700 });
        await open(page, '/service?name=shop');
        facts.narrow_overflow = await page.evaluate(() =>
            document.documentElement.scrollWidth - window.innerWidth);
        await shot(page, 'service-detail-1024');
        await open(page, '/configs');
        facts.narrow_overflow_configs = await page.evaluate(() =>
            document.documentElement.scrollWidth - window.innerWidth);
        await page.setViewportSize({ width: 1366, height: 768 });
    });

    /* keyboard: the navigation is reachable and marks the current page */

    await step('keyboard', async () => {
        await open(page, '/configs');
        await page.focus('#nav a[href="#/services"]');
        await settle(page, '/services', () => page.keyboard.press('Enter'));
        facts.kbd_current = await text(page, '#nav a[aria-current=page]');
        facts.kbd_focus = await page.evaluate(() =>
            document.activeElement.tagName + ' '
            + document.activeElement.textContent);
    });

    /* a refusal of the API is shown as it is */

    await step('api error', async () => {
        await open(page, '/service?name=no-such-service');
        facts.api_error = await text(page, 'main .notice.error');
    });

    /* log out: back to the login page, token gone */

    await step('logout', async () => {
        await page.click('#logout');
        await page.waitForSelector('form.login');
        facts.logout = await text(page, 'main .notice');
        facts.logout_session = await page.evaluate(() =>
            sessionStorage.getItem('nacre.session'));
        await page.goto(base + '/nacos/#/gateway');
        await page.waitForSelector('form.login');
        facts.logout_hash = new URL(page.url()).hash;
    });

    /* an expired token (a node whose tokens live 2 s) */

    await step('expired', async () => {
        const p2 = await context.newPage();
        await login(p2, cfg.short, cfg.password);
        await p2.waitForSelector('h1:has-text("Configurations")');
        await p2.waitForTimeout(3200);
        await p2.goto(cfg.short + '/nacos/#/services');
        await p2.waitForSelector('form.login');
        await p2.waitForSelector('main .notice.error');
        facts.expired = await text(p2, 'main .notice.error');
        facts.expired_hash = new URL(p2.url()).hash;
        await p2.fill('input[name=password]', cfg.password);
        await p2.click('form.login button[type=submit]');
        await p2.waitForSelector('h1:has-text("Services")');
        facts.expired_relogin = await text(p2, 'h1');
        await p2.close();
    });

    await browser.close();
    backend.close();

    process.stdout.write(JSON.stringify({ facts, errors,
                                          ms: Date.now() - started }));
})().catch(e => {
    process.stdout.write(JSON.stringify({ facts, errors: errors.concat(
        ['fatal: ' + e.message]), ms: Date.now() - started }),
        () => process.exit(0));
});
