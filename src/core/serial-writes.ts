/**
 * Writes made because of an event (a history row, a video's start time) run one after another, in the order the
 * events came: with a networked store two writes sent at once may otherwise land the other way round. A write
 * that fails is reported and does not hold up the ones after it.
 */
export class SerialWrites {
  #tail: Promise<void> = Promise.resolve();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  add(write: () => Promise<unknown>): void {
    this.#tail = this.#tail.then(write).then(
      () => undefined,
      (error: unknown) => this.#onError(error),
    );
  }

  /** Resolves once every write added so far has ended. */
  settled(): Promise<void> {
    return this.#tail;
  }
}
