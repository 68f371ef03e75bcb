// Requests in flight, for the progress bar at the top of every page.
type Listener = (busy: number) => void;
let inFlight = 0;
const listeners = new Set<Listener>();

export const activity = {
  start() {
    inFlight++;
    listeners.forEach((l) => l(inFlight));
  },
  end() {
    inFlight = Math.max(0, inFlight - 1);
    listeners.forEach((l) => l(inFlight));
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
