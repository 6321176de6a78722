/**
 * How a sweep hears that it should stop: SIGINT / SIGTERM / SIGHUP (when it handles signals) and
 * the caller's AbortSignal. Every signal is reported, so that a second Ctrl-C can be passed on
 * again (the runs' wrappers kill their commands at the third).
 */
export function listenForStops(
  options: { signal?: AbortSignal; handleSignals?: boolean },
  onStop: (signal: NodeJS.Signals) => void,
): () => void {
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const handle = options.handleSignals !== false;
  if (handle) for (const signal of signals) process.on(signal, onStop);
  const onAbort = () => onStop("SIGTERM");
  if (options.signal?.aborted) queueMicrotask(onAbort);
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  return () => {
    if (handle) for (const signal of signals) process.off(signal, onStop);
    options.signal?.removeEventListener("abort", onAbort);
  };
}
