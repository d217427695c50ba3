// How values are shown: numbers with thousands separators and at most two decimals, ISO dates
// in a readable form, NULL as a marker of its own. Pure functions (no DOM), so they are tested
// on their own.

// signDisplay "negative": a value that rounds to zero is "0", never "-0".
const integerFormat = new Intl.NumberFormat(undefined, {
  maximumFractionDigits: 0,
  signDisplay: 'negative',
});
const decimalFormat = new Intl.NumberFormat(undefined, {
  maximumFractionDigits: 2,
  signDisplay: 'negative',
});
const compactFormat = new Intl.NumberFormat(undefined, {
  notation: 'compact',
  maximumFractionDigits: 1,
});

/** A number for people: "1,234,567" or "1,234.57". */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? integerFormat.format(value) : decimalFormat.format(value);
}

/** A large figure shortened ("1.2M") for tight places; small numbers as formatNumber. */
export function formatCompact(value) {
  return Math.abs(value) >= 1e6 ? compactFormat.format(value) : formatNumber(value);
}

const ISO_MONTH = /^(\d{4})-(\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

// Dates are shown as written (no time-zone shift): they are parsed as UTC and formatted in UTC.
const monthFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  timeZone: 'UTC',
});
const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});

function validDate(y, m, d) {
  const t = Date.UTC(y, m - 1, d);
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === m - 1 && back.getUTCDate() === d
    ? t
    : null;
}

/** An ISO date ("2024-03", "2024-03-05", "2024-03-05 14:30:00") made readable; null otherwise. */
export function formatIsoDate(text) {
  let m = ISO_MONTH.exec(text);
  if (m) {
    const t = validDate(Number(m[1]), Number(m[2]), 1);
    return t === null ? null : monthFormat.format(t);
  }
  m = ISO_DATE.exec(text);
  if (m) {
    const t = validDate(Number(m[1]), Number(m[2]), Number(m[3]));
    return t === null ? null : dateFormat.format(t);
  }
  m = ISO_DATETIME.exec(text);
  if (m) {
    const day = validDate(Number(m[1]), Number(m[2]), Number(m[3]));
    const hours = Number(m[4]);
    const minutes = Number(m[5]);
    if (day === null || hours > 23 || minutes > 59) return null;
    return dateTimeFormat.format(day + (hours * 60 + minutes) * 60_000);
  }
  return null;
}

/**
 * A result cell for display: {text, kind} where kind is "null", "number", "date" or "text".
 * Cells arrive as the API sends them: number, string, or null (booleans are shown as text).
 */
export function formatCell(value) {
  if (value === null || value === undefined) return { text: 'NULL', kind: 'null' };
  if (typeof value === 'number') return { text: formatNumber(value), kind: 'number' };
  const text = String(value);
  const date = formatIsoDate(text);
  if (date !== null) return { text: date, kind: 'date' };
  return { text, kind: 'text' };
}

/** True when every non-NULL cell of the column is a number (and there is at least one). */
export function isNumericColumn(rows, index) {
  let any = false;
  for (const row of rows) {
    const v = row[index];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number') return false;
    any = true;
  }
  return any;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Rows sorted by one column, as a new array: numbers numerically, text by a natural collation,
 * NULLs last in both directions; equal cells keep their original order (a stable sort).
 */
export function sortRows(rows, index, direction) {
  const sign = direction === 'desc' ? -1 : 1;
  return rows
    .map((row, position) => ({ row, position }))
    .sort((a, b) => {
      const x = a.row[index];
      const y = b.row[index];
      const xNull = x === null || x === undefined;
      const yNull = y === null || y === undefined;
      let order = 0;
      if (xNull || yNull) {
        order = xNull === yNull ? 0 : xNull ? 1 : -1;
      } else if (typeof x === 'number' && typeof y === 'number') {
        order = sign * (x - y);
      } else if (typeof x === 'number') {
        order = -sign;
      } else if (typeof y === 'number') {
        order = sign;
      } else {
        order = sign * collator.compare(String(x), String(y));
      }
      return order || a.position - b.position;
    })
    .map((entry) => entry.row);
}

/** A column name for people: underscores as spaces ("sum_total_amount" -> "sum total amount"). */
export function humanizeColumn(name) {
  return String(name).replace(/_+/g, ' ').trim() || String(name);
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "5 minutes ago", "yesterday": how long ago a Unix-milliseconds time was. */
export function formatRelativeTime(then, now = Date.now()) {
  const seconds = Math.round((then - now) / 1000);
  const steps = [
    ['second', 60],
    ['minute', 60],
    ['hour', 24],
    ['day', 7],
    ['week', 4.35],
    ['month', 12],
    ['year', Infinity],
  ];
  let amount = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(amount) < size) {
      if (unit === 'second' && Math.abs(amount) < 45) return relative.format(0, 'second');
      return relative.format(Math.round(amount), unit);
    }
    amount /= size;
  }
  return relative.format(Math.round(amount), 'year');
}

/** "1 row", "57 rows". */
export function formatRowCount(n) {
  return `${formatNumber(n)} ${n === 1 ? 'row' : 'rows'}`;
}
