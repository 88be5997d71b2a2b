// bench:district's yardstick: aedes as its README starts it — memory persistence, no authentication, no ACL,
// no journal, no services — on a TCP port of its own, printing "PORT <n>". The bench connects the same
// simulated devices to it as to `up` and compares the resident memory each connection costs.
import { createServer } from "node:net";
import { Aedes } from "aedes";

const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`PORT ${typeof address === "object" && address ? address.port : "?"}\n`);
});
process.on("SIGTERM", () => {
  server.close();
  broker.close(() => process.exit(0));
});
