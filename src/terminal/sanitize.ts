// Text from a model or a command, made safe to print on a terminal: escape sequences (CSI, OSC,
// DCS, …) and other control characters could otherwise move the cursor, retitle the window,
// rewrite the clipboard or hide what was printed. Newlines and tabs stay; everything else goes.

// ESC followed by: CSI (params, final byte), OSC/DCS/SOS/PM/APC (up to BEL or ST, or the end),
// or intermediates and a final byte (ESC c, ESC ( B). C1 controls likewise (0x9b is CSI).
const SEQUENCE =
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -/]*[0-~]?/g;
// Bidirectional overrides and isolates too: they reorder how the rest of a line is displayed.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without terminal control sequences or control characters other than \n and \t. */
export function stripControls(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(SEQUENCE, '').replace(CONTROL, '');
}

/** Every string in a JSON-like value, stripped (objects and arrays copied). */
export function stripControlsDeep<T>(value: T): T {
  if (typeof value === 'string') return stripControls(value) as T;
  if (Array.isArray(value)) return value.map((v) => stripControlsDeep(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripControlsDeep(v)])) as T;
  }
  return value;
}
