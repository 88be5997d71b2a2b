// mqtt-packet, the encoder under aedes and mqtt.js, writes a packet's two-byte numbers (message ids, topic
// alias, keep-alive) from a table it builds at the first packet: 65,536 two-byte Buffers, 6.3 MB of heap in
// every thread that sends MQTT (in `up`, the main thread's broker and the alerts thread's client), which each
// major GC walks again. Off, it allocates the two bytes per number from Node's buffer pool (mqtt.js's own
// `writeCache: false` does the same). The switch is the module's, so importing this once per thread is enough.
import { writeToStream } from "mqtt-packet";

writeToStream.cacheNumbers = false;
