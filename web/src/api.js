// The server's HTTP API (/api/v1/*), as the page uses it. Every call resolves to the decoded
// JSON body or rejects with an ApiError; nothing else is thrown. The login token lives in
// sessionStorage, so it is kept for this tab only and dropped when the tab closes.

const TOKEN_KEY = 'helios.token';
const USER_KEY = 'helios.user';
// A question may take a while (a language model, a slow database); past this the page gives up.
const REQUEST_TIMEOUT_MS = 90_000;

/** A failed call. `kind`: "http" (the server answered an error), "network", "timeout". */
export class ApiError extends Error {
  constructor({ kind, status = 0, code = '', message, details = {}, retryAfter = null }) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter; // seconds, from Retry-After, or null
  }
}

export const tokenStore = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get user() {
    return sessionStorage.getItem(USER_KEY);
  },
  save(token, user) {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, user);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  },
};

/** Retry-After as seconds: a number of seconds or an HTTP date; null when absent or bad. */
export function parseRetryAfter(value, now = Date.now()) {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - now) / 1000));
}

// The body of an error reply: {"error":{"code","message","details"?}}; anything else gets a
// generic message for its status.
async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && typeof body === 'object' ? body.error : null;
  return new ApiError({
    kind: 'http',
    status: response.status,
    code: typeof error?.code === 'string' ? error.code : '',
    message:
      typeof error?.message === 'string' && error.message
        ? error.message
        : `The server answered with status ${response.status}.`,
    details: error?.details && typeof error.details === 'object' ? error.details : {},
    retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
  });
}

/**
 * One request. `auth`: send the stored token (when there is one). Resolves to the JSON body,
 * or null for an empty reply (204).
 */
export async function request(method, path, { body, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = tokenStore.token;
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
    });
  } catch (e) {
    const timedOut = e?.name === 'AbortError';
    throw new ApiError({
      kind: timedOut ? 'timeout' : 'network',
      message: timedOut
        ? 'The server did not answer in time.'
        : 'Could not reach the server. Check your connection and try again.',
    });
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    throw new ApiError({
      kind: 'http',
      status: response.status,
      code: 'bad_response',
      message: 'The server sent a reply the page could not read.',
    });
  }
}

/**
 * Whether the server wants a login: GET /api/v1/sessions without a token is 200 when
 * authentication is off (a loopback demo) and 401 when it is on.
 */
export async function probeAuthentication() {
  try {
    await request('GET', '/api/v1/sessions', { auth: false });
    return false;
  } catch (e) {
    if (e.kind === 'http' && e.status === 401) return true;
    throw e;
  }
}

export const api = {
  login: (username, password) =>
    request('POST', '/api/v1/auth/login', { body: { username, password }, auth: false }),
  ask: (query, sessionId) =>
    request('POST', '/api/v1/query', {
      body: sessionId ? { session_id: sessionId, query } : { query },
    }),
  sessions: () => request('GET', '/api/v1/sessions'),
  session: (id) => request('GET', `/api/v1/sessions/${encodeURIComponent(id)}`),
  feedback: (sessionId, turn, correct) =>
    request('POST', '/api/v1/feedback', { body: { session_id: sessionId, turn, correct } }),
};
