// nacre console: building the page.  Everything the API returns is put in
// as text nodes or attribute values, never parsed as HTML.

export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);

    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) {
            continue;
        }
        if (k.startsWith('on') && typeof v === 'function') {
            el.addEventListener(k.slice(2), v);
        } else if (k === 'class') {
            el.className = v;
        } else if (k === 'value') {
            el.value = v;
        } else if (k === 'checked') {
            el.checked = !!v;
        } else {
            el.setAttribute(k, v === true ? '' : String(v));
        }
    }

    append(el, children);
    return el;
}

function append(el, children) {
    for (const c of children) {
        if (c === undefined || c === null || c === false) {
            continue;
        }
        if (Array.isArray(c)) {
            append(el, c);
        } else if (c instanceof Node) {
            el.appendChild(c);
        } else {
            el.appendChild(document.createTextNode(String(c)));
        }
    }
}

export function clear(el) {
    while (el.firstChild) {
        el.removeChild(el.firstChild);
    }
    return el;
}

// the main area, emptied, with a heading that takes the focus so a
// keyboard or screen reader user lands on the new page
export function page(title, ...actions) {
    const main = clear(document.getElementById('main'));
    main.className = '';
    const h1 = h('h1', { tabindex: '-1' }, title);

    main.appendChild(h('div', { class: 'pagehead' }, h1,
        h('div', { class: 'actions' }, actions)));
    document.title = title + ' - nacre';
    h1.focus({ preventScroll: true });

    return main;
}

// a message in the page: kind "error" (role=alert) or "ok"
export function notice(kind, text) {
    return h('p', {
        class: 'notice ' + kind,
        role: kind === 'error' ? 'alert' : 'status',
    }, text);
}

export function errorBox(err) {
    const status = err && err.status ? 'HTTP ' + err.status + ': ' : '';
    return notice('error', status + (err && err.message ? err.message : err));
}

// a short message in the status line under the header
export function flash(text) {
    const s = document.getElementById('status');
    clear(s).appendChild(h('span', null, text));
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => clear(s), 4000);
}

let fieldSeq = 0;

// a labelled input; opts.type "textarea" and "select" (opts.options) too
export function field(label, name, opts = {}) {
    const id = 'f-' + name + '-' + (++fieldSeq);
    let input;

    if (opts.type === 'select') {
        input = h('select', { id, name },
            (opts.options || []).map(o => {
                const [v, t] = Array.isArray(o) ? o : [o, o];
                return h('option', { value: v, selected: v === opts.value },
                    t);
            }));
    } else if (opts.type === 'textarea') {
        input = h('textarea', { id, name, rows: opts.rows || 3 });
        input.value = opts.value || '';
    } else {
        input = h('input', {
            id, name,
            type: opts.type || 'text',
            value: opts.value,
            placeholder: opts.placeholder,
            autocomplete: opts.autocomplete || 'off',
            checked: opts.checked,
            min: opts.min, max: opts.max, step: opts.step,
        });
    }

    if (opts.required) {
        input.required = true;
    }
    if (opts.readonly) {
        input.readOnly = true;
    }

    const wrap = h('div', { class: 'field' + (opts.type === 'checkbox'
                                               ? ' check' : '') },
        h('label', { for: id }, label), input,
        opts.hint ? h('small', null, opts.hint) : null);

    wrap.input = input;
    return wrap;
}

// a table: columns [{title, render(row) -> node|string, class}]
export function table(caption, columns, rows, empty) {
    if (!rows.length) {
        return h('p', { class: 'empty' }, empty || 'Nothing here.');
    }

    return h('table', null,
        h('caption', { class: 'sr' }, caption),
        h('thead', null, h('tr', null, columns.map(c =>
            h('th', { scope: 'col', class: c.class }, c.title)))),
        h('tbody', null, rows.map(r => h('tr', null, columns.map(c =>
            h('td', { class: c.class }, c.render(r)))))));
}

// pager for a server-side page: onGo(pageNo)
export function pager(pageNo, pageSize, total, onGo) {
    const pages = Math.max(1, Math.ceil(total / pageSize));

    return h('nav', { class: 'pager', 'aria-label': 'Pages' },
        h('button', { type: 'button', disabled: pageNo <= 1,
                      onclick: () => onGo(pageNo - 1) }, 'Previous'),
        h('span', null, `Page ${pageNo} of ${pages} (${total} in all)`),
        h('button', { type: 'button', disabled: pageNo >= pages,
                      onclick: () => onGo(pageNo + 1) }, 'Next'));
}

export function button(text, onclick, cls) {
    return h('button', { type: 'button', class: cls, onclick }, text);
}

export function link(text, href) {
    return h('a', { href }, text);
}

// "#/path?k=v" for the router
export function route(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) {
        if (v !== undefined && v !== null && v !== '') {
            q.set(k, v);
        }
    }
    const s = q.toString();
    return '#' + path + (s ? '?' + s : '');
}

export function go(path, params) {
    location.hash = route(path, params);
}

// runs fn while a button shows it is busy; the error lands in box
export async function busy(btn, box, fn) {
    if (btn) {
        btn.disabled = true;
    }
    if (box) {
        clear(box);
    }
    try {
        return await fn();
    } catch (e) {
        if (box) {
            box.appendChild(errorBox(e));
        }
        return undefined;
    } finally {
        if (btn) {
            btn.disabled = false;
        }
    }
}

export function ask(question) {
    return window.confirm(question);
}

export function formatTime(v) {
    if (v === undefined || v === null || v === '') {
        return '';
    }
    const d = typeof v === 'number' ? new Date(v) : new Date(String(v)
        .replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
    if (isNaN(d.getTime())) {
        return String(v);
    }
    return d.toLocaleString();
}

export function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
}
