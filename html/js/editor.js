// nacre console: a plain textarea with a line-number gutter.  Tab inserts
// two spaces (Escape, then Tab, leaves the editor, so the keyboard is
// never trapped); the gutter follows the scroll.

import { h } from './ui.js';

export function editor(label, id, value, opts = {}) {
    const gutter = h('pre', { class: 'gutter', 'aria-hidden': 'true' });
    const area = h('textarea', {
        id, name: id, spellcheck: 'false', wrap: 'off',
        class: 'code', rows: opts.rows || 18,
    });
    let escaped = false;

    area.value = value || '';
    area.readOnly = !!opts.readonly;

    function number() {
        const n = area.value.split('\n').length;
        if (gutter.lines !== n) {
            const out = [];
            for (let i = 1; i <= n; i++) {
                out.push(i);
            }
            gutter.textContent = out.join('\n');
            gutter.lines = n;
        }
        gutter.scrollTop = area.scrollTop;
    }

    area.addEventListener('input', number);
    area.addEventListener('scroll', () => {
        gutter.scrollTop = area.scrollTop;
    });
    area.addEventListener('keydown', e => {
        if (e.key === 'Escape') {
            escaped = true;
            return;
        }
        if (e.key === 'Tab' && !e.shiftKey && !escaped && !area.readOnly) {
            e.preventDefault();
            area.setRangeText('  ', area.selectionStart, area.selectionEnd,
                              'end');
            number();
        }
        escaped = false;
    });

    number();

    const wrap = h('div', { class: 'field' },
        h('label', { for: id }, label),
        h('div', { class: 'editor' }, gutter, area),
        opts.hint ? h('small', null, opts.hint) : null);

    wrap.input = area;
    return wrap;
}

// a read-only listing, numbered by CSS so that a copy takes the text only
export function listing(text) {
    return h('pre', { class: 'listing' }, String(text).split('\n').map(l =>
        h('code', { class: 'line' }, l)));
}
