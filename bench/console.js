// bench/console's browser: log in once, then open the configuration list
// ROUNDS times in headless Chromium, each a new page load, and take the
// time from the start of the navigation to the list rendered with its
// data (the console's performance mark "nacre:configs-rendered"); and
// COLDS times as the first page of a new browser context (nothing
// cached).  Argument: {base, password, rounds, colds, chromium}.  Prints
// one JSON object: {cold: [...], warm: [...]} in milliseconds.

'use strict';

const { chromium } = require('playwright-core');

const cfg = JSON.parse(process.argv[2]);

async function listPainted(page) {
    await page.waitForSelector('main[data-path="/configs"]:not([aria-busy])'
                               + ' table tbody tr');
    return page.evaluate(() => {
        const m = performance.getEntriesByName('nacre:configs-rendered');
        return m.length ? m[m.length - 1].startTime : -1;
    });
}

(async () => {
    const browser = await chromium.launch({
        executablePath: cfg.chromium, headless: true,
        args: ['--no-sandbox', '--disable-gpu'] });
    const context = await browser.newContext({
        viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const out = { warm: [] };

    context.setDefaultTimeout(10000);

    await page.goto(cfg.base + '/nacos/');
    await page.fill('input[name=username]', 'nacos');
    await page.fill('input[name=password]', cfg.password);
    await page.press('input[name=password]', 'Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/configs'));

    /* cold loads: each the first page of a new context (nothing cached) */
    const session = await page.evaluate(() =>
        sessionStorage.getItem('nacre.session'));
    out.cold = [];
    for (let i = 0; i < cfg.colds; i++) {
        const cold = await browser.newContext({
            viewport: { width: 1366, height: 768 } });
        const first = await cold.newPage();
        await first.addInitScript(s =>
            sessionStorage.setItem('nacre.session', s), session);
        await first.goto(cfg.base + '/nacos/#/configs');
        out.cold.push(await listPainted(first));
        await cold.close();
    }

    for (let i = 0; i < cfg.rounds; i++) {
        await page.goto('about:blank');
        await page.goto(cfg.base + '/nacos/#/configs');
        out.warm.push(await listPainted(page));
    }

    await browser.close();
    console.log(JSON.stringify(out));
})().catch(e => {
    console.log(JSON.stringify({ error: e.message.split('\n')[0] }));
    process.exit(1);
});
