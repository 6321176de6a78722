// The pure-JavaScript route a Node user has without this package: yauzl reads the zip directory
// and data.pkl, pickleparser runs the pickle with torch's rebuild functions registered, and the
// state dict's tensor sizes are summed. Used by bench/checkpoints.js as the comparison.
import yauzl from "yauzl";
import { NameRegistry, Parser } from "pickleparser";

function openZip(path) {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => (error ? reject(error) : resolve(zip))),
  );
}

// data.pkl's bytes: walk the directory to the entry, then read it whole.
async function readDataPkl(path) {
  const zip = await openZip(path);
  try {
    const entry = await new Promise((resolve, reject) => {
      zip.on("entry", (e) => (e.fileName.endsWith("/data.pkl") || e.fileName === "data.pkl" ? resolve(e) : zip.readEntry()));
      zip.on("end", () => reject(new Error("no data.pkl")));
      zip.on("error", reject);
      zip.readEntry();
    });
    const stream = await new Promise((resolve, reject) => zip.openReadStream(entry, (e, s) => (e ? reject(e) : resolve(s))));
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    zip.close();
  }
}

const tensor = (storage, offset, size) => ({ tensor: true, storage, size, numel: size.reduce((a, b) => a * b, 1) });

export async function countWithPureJs(path) {
  const pickle = await readDataPkl(path);
  const registry = new NameRegistry()
    .register("collections", "OrderedDict", () => ({}))
    .register("torch._utils", "_rebuild_tensor_v2", tensor)
    .register("torch._utils", "_rebuild_parameter", (data) => data)
    .register("torch", "FloatStorage", function FloatStorage() {});
  const parser = new Parser({
    nameResolver: registry,
    persistentResolver: { resolve: (pid) => ({ key: pid[2], numel: pid[4] }) },
  });
  const root = parser.parse(pickle);
  let numParameters = 0;
  let numTensors = 0;
  for (const value of Object.values(root)) {
    if (value?.tensor) {
      numParameters += value.numel;
      numTensors += 1;
    }
  }
  return { num_parameters: numParameters, num_tensors: numTensors };
}
