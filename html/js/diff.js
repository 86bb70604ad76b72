// nacre console: a line diff (longest common subsequence) shown side by
// side.  Config items are small (the common prefix and suffix are cut
// first), so the quadratic table is fine; past a limit the middle is
// shown as one replaced block rather than stalling the tab.

import { h } from './ui.js';

const LIMIT = 4000 * 4000;

// [{op: '=', '-', '+', a, b}] with a and b the lines (or null)
export function diffLines(left, right) {
    const a = left.split('\n');
    const b = right.split('\n');
    const out = [];
    let start = 0;
    let ea = a.length;
    let eb = b.length;

    while (start < ea && start < eb && a[start] === b[start]) {
        out.push({ op: '=', a: a[start], b: b[start] });
        start++;
    }

    const tail = [];
    while (ea > start && eb > start && a[ea - 1] === b[eb - 1]) {
        ea--;
        eb--;
        tail.unshift({ op: '=', a: a[ea], b: b[eb] });
    }

    const n = ea - start;
    const m = eb - start;

    if (n * m > LIMIT) {
        for (let i = start; i < ea; i++) {
            out.push({ op: '-', a: a[i], b: null });
        }
        for (let j = start; j < eb; j++) {
            out.push({ op: '+', a: null, b: b[j] });
        }
        return out.concat(tail);
    }

    // lcs[i][j]: length of the LCS of a[start+i..] and b[start+j..]
    const lcs = [];
    for (let i = 0; i <= n; i++) {
        lcs.push(new Uint32Array(m + 1));
    }
    for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) {
            lcs[i][j] = a[start + i] === b[start + j]
                ? lcs[i + 1][j + 1] + 1
                : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }

    let i = 0;
    let j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[start + i] === b[start + j]) {
            out.push({ op: '=', a: a[start + i], b: b[start + j] });
            i++;
            j++;
        } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
            out.push({ op: '+', a: null, b: b[start + j] });
            j++;
        } else {
            out.push({ op: '-', a: a[start + i], b: null });
            i++;
        }
    }

    return out.concat(tail);
}

// pairs removed and added lines of one change on the same row
function rows(ops) {
    const out = [];
    let k = 0;

    while (k < ops.length) {
        if (ops[k].op === '=') {
            out.push(ops[k++]);
            continue;
        }
        const del = [];
        const add = [];
        while (k < ops.length && ops[k].op !== '=') {
            (ops[k].op === '-' ? del : add).push(ops[k].op === '-'
                                                 ? ops[k].a : ops[k].b);
            k++;
        }
        for (let x = 0; x < Math.max(del.length, add.length); x++) {
            out.push({
                op: '~',
                a: x < del.length ? del[x] : null,
                b: x < add.length ? add[x] : null,
            });
        }
    }

    return out;
}

export function sideBySide(leftTitle, left, rightTitle, right) {
    const ops = diffLines(left, right);
    const removed = ops.filter(o => o.op === '-').length;
    const added = ops.filter(o => o.op === '+').length;
    let la = 0;
    let lb = 0;

    const body = rows(ops).map(r => {
        const na = r.a !== null ? ++la : '';
        const nb = r.b !== null ? ++lb : '';
        const ca = r.op === '=' ? '' : (r.a !== null ? 'del' : 'none');
        const cb = r.op === '=' ? '' : (r.b !== null ? 'add' : 'none');

        return h('tr', null,
            h('td', { class: 'ln' }, String(na)),
            h('td', { class: 'code ' + ca },
                r.a !== null && r.op !== '=' ? h('span', { class: 'sr' },
                                                 'removed: ') : null,
                r.a === null ? '' : r.a),
            h('td', { class: 'ln' }, String(nb)),
            h('td', { class: 'code ' + cb },
                r.b !== null && r.op !== '=' ? h('span', { class: 'sr' },
                                                 'added: ') : null,
                r.b === null ? '' : r.b));
    });

    return h('div', { class: 'diff' },
        h('p', { class: 'diffsum' }, removed + added === 0
            ? 'No difference.'
            : `${removed} line${removed === 1 ? '' : 's'} removed,`
              + ` ${added} added.`),
        h('table', null,
            h('colgroup', null, h('col', { class: 'ln' }), h('col'),
              h('col', { class: 'ln' }), h('col')),
            h('caption', { class: 'sr' }, leftTitle + ' against ' + rightTitle),
            h('thead', null, h('tr', null,
                h('th', { colspan: 2, scope: 'col' }, leftTitle),
                h('th', { colspan: 2, scope: 'col' }, rightTitle))),
            h('tbody', null, body)));
}
