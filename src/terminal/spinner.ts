// A one-line spinner on a terminal: redrawn in place every 80 ms, erased before anything else is
// written. Only used when stderr is a TTY.
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const INTERVAL_MS = 80;

export class Spinner {
  #timer: NodeJS.Timeout | undefined;
  #frame = 0;
  #label = '';
  #since = 0;

  constructor(private readonly write: (text: string) => void) {}

  /** Shows (or relabels) the spinner. */
  start(label: string): void {
    this.#label = label;
    this.#since = Date.now();
    if (this.#timer) return;
    this.#draw();
    this.#timer = setInterval(() => this.#draw(), INTERVAL_MS);
    this.#timer.unref();
  }

  /** Erases the spinner line (a no-op when it is not shown). */
  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.write('\r\x1b[2K');
  }

  #draw(): void {
    const seconds = Math.floor((Date.now() - this.#since) / 1000);
    this.write(`\r\x1b[2K${FRAMES[this.#frame++ % FRAMES.length]} ${this.#label}…${seconds > 0 ? ` ${seconds}s` : ''}`);
  }
}
