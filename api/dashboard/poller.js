// A GET repeated every `everyMs` while started, one request at a time, for the figures only the API
// computes (building and site totals, today's energy). A failed poll keeps the last answer and tries
// again at the next turn. Each start gets a number; a poll of an older one stops instead of scheduling
// the next, so signing out ends the polling (its requests would carry no token, and the API counts each
// as a failed sign-in of this address: api/auth-limiter.ts) and starting again runs one loop, not two.
import { getJson } from "./session.js";

/**
 * `path()` is read at each poll (the site in view may change); `onAnswer(body)` gets each answer.
 * `soon()` asks for a poll within `soonMs` (something changed that the figures count), never postponing
 * one already due sooner, so a burst of changes costs one request.
 */
export function createPoller({ path, everyMs, soonMs = 1000, onAnswer }) {
  let generation = 0;
  let running = false;
  let timer = null;
  let dueAt = Infinity;
  let inFlight = false;
  let soonAsked = false;

  function schedule(mine, ms) {
    clearTimeout(timer);
    dueAt = Date.now() + ms;
    timer = setTimeout(() => poll(mine), ms);
  }

  async function poll(mine) {
    dueAt = Infinity;
    inFlight = true;
    soonAsked = false;
    const body = await getJson(path());
    inFlight = false;
    if (mine !== generation) return;
    if (body) onAnswer(body);
    schedule(mine, soonAsked ? soonMs : everyMs);
  }

  return {
    start() {
      generation += 1;
      running = true;
      clearTimeout(timer);
      poll(generation);
    },
    stop() {
      generation += 1;
      running = false;
      clearTimeout(timer);
    },
    soon() {
      if (!running) return;
      if (inFlight) soonAsked = true; // the answer on its way may not count the change yet
      else if (dueAt > Date.now() + soonMs) schedule(generation, soonMs);
    },
  };
}
