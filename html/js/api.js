// nacre console: the HTTP API, as every client calls it.
//
// The token from /nacos/v1/auth/login is kept in sessionStorage (gone
// when the tab closes) and sent in the accessToken header.  A refusal of
// the identity itself (no token, a bad or expired one) sends the user
// back to the login page with the server's message; any other error is
// thrown as an ApiError carrying the status and the server's text.

const KEY = 'nacre.session';

export class ApiError extends Error {
    constructor(status, message, body) {
        super(message);
        this.status = status;
        this.body = body;
    }
}

export function session() {
    try {
        return JSON.parse(sessionStorage.getItem(KEY)) || null;
    } catch (e) {
        return null;
    }
}

export function setSession(s) {
    if (s) {
        sessionStorage.setItem(KEY, JSON.stringify(s));
    } else {
        sessionStorage.removeItem(KEY);
    }
}

// set by the app: called with the message when the identity is refused
let onLoggedOut = () => {};

export function whenLoggedOut(fn) {
    onLoggedOut = fn;
}

// the server's words: RestResult and error documents carry a message,
// the gateway API an error, config v1 plain "caused: ...;" text
export function errorText(status, text) {
    let msg = text.trim();

    try {
        const j = JSON.parse(text);
        if (j && typeof j === 'object') {
            if (typeof j.message === 'string' && j.message) {
                msg = j.message;
            } else if (typeof j.error === 'string' && j.error) {
                msg = j.error;
            } else if (typeof j.data === 'string' && j.data) {
                msg = j.data;
            }
        }
    } catch (e) {
        // not JSON: the text as it is
    }

    return msg || 'HTTP ' + status;
}

const IDENTITY = /user not found|token invalid|token expired/i;

// opts: method, query (object), form (object: urlencoded body),
// body (string or FormData), json (parse the answer), blob
export async function call(path, opts = {}) {
    const s = session();
    const headers = {};
    let url = path;
    let body;

    if (opts.query) {
        const q = new URLSearchParams();
        for (const [k, v] of Object.entries(opts.query)) {
            if (v !== undefined && v !== null) {
                q.set(k, String(v));
            }
        }
        url += (url.includes('?') ? '&' : '?') + q.toString();
    }

    if (opts.form) {
        const f = new URLSearchParams();
        for (const [k, v] of Object.entries(opts.form)) {
            if (v !== undefined && v !== null) {
                f.set(k, String(v));
            }
        }
        body = f.toString();
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else if (opts.body !== undefined) {
        body = opts.body;
    }

    if (s && s.token) {
        headers.accessToken = s.token;
    }

    Object.assign(headers, opts.headers || {});

    let res;

    try {
        res = await fetch(url, {
            method: opts.method || 'GET',
            headers,
            body,
            cache: 'no-store',
        });
    } catch (e) {
        throw new ApiError(0, 'the server did not answer (' + e.message + ')');
    }

    if (opts.blob && res.ok) {
        return { blob: await res.blob(), headers: res.headers };
    }

    const text = await res.text();

    if (!res.ok) {
        const msg = errorText(res.status, text);

        if (res.status === 401 || (res.status === 403 && IDENTITY.test(msg))) {
            setSession(null);
            onLoggedOut(msg);
        }

        throw new ApiError(res.status, msg, text);
    }

    if (opts.raw) {
        return { text, headers: res.headers };
    }

    if (opts.json === false) {
        return text;
    }

    if (text === '') {
        return null;
    }

    try {
        return JSON.parse(text);
    } catch (e) {
        return text;
    }
}

export async function login(username, password) {
    const res = await fetch('/nacos/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }).toString(),
        cache: 'no-store',
    });
    const text = await res.text();

    if (!res.ok) {
        throw new ApiError(res.status, errorText(res.status, text), text);
    }

    const j = JSON.parse(text);

    setSession({
        token: j.accessToken,
        user: j.username || username,
        admin: !!j.globalAdmin,
        expires: Date.now() + j.tokenTtl * 1000,
    });

    return j;
}

// RestResult {code, message, data}: code 200 is success
export function restData(r) {
    if (r && typeof r === 'object' && 'code' in r && r.code !== 200
        && r.code !== 0)
    {
        throw new ApiError(r.code, r.message || String(r.data), r);
    }

    return r && typeof r === 'object' && 'data' in r ? r.data : r;
}

// the namespace the pages work in: "" is the public one
export function namespace() {
    return sessionStorage.getItem('nacre.namespace') || '';
}

export function setNamespace(ns) {
    sessionStorage.setItem('nacre.namespace', ns || '');
}
