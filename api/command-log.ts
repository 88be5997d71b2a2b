// The commands the API has seen on campus/internal/commands (the alerts service announces every change,
// QoS 1, not retained), so a command is visible at once: InfluxDB has it only after the alerts service's
// writer flushed, and not at all while InfluxDB is down. Bounded: the oldest are forgotten first; the
// history (./command-history.ts) has them all. Pure.
import { type Command, type CommandState, isFinal } from "../domain/command.js";

/** A command only moves forward: selected → sent → a final state. */
const progress = (state: CommandState) => (isFinal(state) ? 2 : state === "sent" ? 1 : 0);

/** The later of two versions of the same command (a redelivered or reordered announcement never goes back). */
export const laterOf = (a: Command, b: Command): Command => (progress(b.state) > progress(a.state) ? b : a);

export class CommandLog {
  private readonly byId = new Map<string, Command>();

  constructor(private readonly max = 5_000) {}

  /** Keeps the command unless a later version of it is known; true when it changed what is known. */
  apply(command: Command): boolean {
    const known = this.byId.get(command.id);
    if (known !== undefined && laterOf(known, command) === known) return false;
    this.byId.delete(command.id); // re-inserted last: the newest change is forgotten last
    this.byId.set(command.id, command);
    if (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
    return true;
  }

  get(id: string): Command | undefined {
    return this.byId.get(id);
  }

  all(): Command[] {
    return [...this.byId.values()];
  }
}
