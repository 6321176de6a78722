/**
 * The command line's grammar as a user meets it: every command's help on --help, -h and
 * `help <command>` (exit 0, made from the grammar that also parses the options), docs/cli.md made
 * from the same grammar, every environment variable the code reads listed, and usage mistakes
 * answered with one line starting with the command (exit 2), never Node's own text.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { renderCliDoc } from "../src/cli/cli-doc.js";
import { COMMANDS, ENVIRONMENT } from "../src/cli/grammar.js";
import { commandHelp, programHelp } from "../src/cli/help.js";
import { repoRoot, runCli, tempDir } from "./support/helpers.js";

const quiet = { CONFIG_TRACKER_DISABLE_GIT: "1", CONFIG_TRACKER_NVML_LIBRARY: "/nonexistent/libnvidia-ml.so.1" };

describe("help", () => {
  it.each(COMMANDS.map((command) => [command.name]))("%s: --help, -h and help <command> print its help, exit 0", (name) => {
    const command = COMMANDS.find((spec) => spec.name === name)!;
    const expected = commandHelp(command);
    for (const args of [[name, "--help"], [name, "-h"], ["help", name], [name, "--json", "-h"]]) {
      const result = runCli(args, quiet);
      expect(result.status, `${args.join(" ")}: ${result.stderr}`).toBe(0);
      expect(result.stdout).toBe(expected);
      expect(result.stderr).toBe("");
    }
    for (const heading of ["Usage: config-tracker", "\nOptions:\n", "\nExamples:\n", "\nExit status:\n", "\nMore: docs/"]) {
      expect(expected).toContain(heading);
    }
    // Every option the parser takes is in the help (the internal ones of a SLURM task aside).
    for (const option of command.options.filter((spec) => !spec.internal)) expect(expected).toContain(`--${option.name}`);
    // Lines fit an 80-column terminal, but for the usage line and the examples' command lines.
    const examples = new Set(command.examples.map(([line]) => `  ${line}`));
    expect(expected.split("\n").filter((line) => line.length > 80 && !examples.has(line) && !line.startsWith("Usage:"))).toEqual([]);
  });

  it("the program's help lists every command and every environment variable, exit 0", () => {
    const result = runCli(["help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(programHelp());
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command.name} `, "m"));
    for (const [name] of ENVIRONMENT) expect(result.stdout).toContain(name);
    expect(result.stdout).toContain("CONFIG_TRACKER_PYTHON");
  });

  it("-h after -- belongs to the command run starts", () => {
    const result = runCli(["run", "--dir", join(tempDir(), "exp"), "--", "sh", "-c", "echo got $1", "sh", "-h"], quiet);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe("got -h\n");
  });
});

describe("docs/cli.md", () => {
  it("is made from the grammar (npm run docs:cli writes it)", () => {
    expect(readFileSync(join(repoRoot, "docs", "cli.md"), "utf8")).toBe(renderCliDoc());
  });

  it("documents every command, option and exit status the help shows", () => {
    const doc = renderCliDoc();
    for (const command of COMMANDS) {
      expect(doc).toContain(`## \`config-tracker ${command.name}\``);
      for (const option of command.options.filter((spec) => !spec.internal)) expect(doc).toContain(`\`--${option.name}`);
      for (const [status] of command.exits) expect(doc).toContain(`| ${status} |`);
    }
  });
});

describe("environment variables", () => {
  const listed = new Set(ENVIRONMENT.flatMap(([names]) => names.split(", ")));

  it("every CONFIG_TRACKER_* variable the code reads is in the grammar (the help and docs/cli.md)", () => {
    const read = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else if (entry.name.endsWith(".ts")) for (const match of readFileSync(join(dir, entry.name), "utf8").matchAll(/CONFIG_TRACKER_[A-Z_]+[A-Z]/g)) read.add(match[0]);
      }
    };
    walk(join(repoRoot, "src"));
    expect(read.size).toBeGreaterThan(8);
    expect([...read].filter((name) => !listed.has(name))).toEqual([]);
  });

  it("every variable of the library's table (docs/api.md) is in the grammar", () => {
    const api = readFileSync(join(repoRoot, "docs", "api.md"), "utf8");
    const section = api.slice(api.indexOf("## Environment variables"), api.indexOf("## Types"));
    const names = [...section.matchAll(/^\| `([A-Z_]+)`(?:, `([A-Z_]+)`)?/gm)].flatMap((match) => match.slice(1).filter(Boolean) as string[]);
    expect(names.length).toBeGreaterThan(8);
    expect(names.filter((name) => !listed.has(name))).toEqual([]);
  });
});

describe("usage mistakes: exit 2, one line naming the mistake, the usage line, never Node's text", () => {
  const root = tempDir("ct-usage-");
  writeFileSync(join(root, "list.json"), "[1, 2]");
  writeFileSync(join(root, "torn.json"), '{"lr": 1');
  mkdirSync(join(root, "empty"));

  it.each([
    [["lss"], 'config-tracker: unknown command "lss" (did you mean ls?)'],
    [["comprae", "runs"], 'config-tracker: unknown command "comprae" (did you mean compare?)'],
    [["frobnicate"], 'config-tracker: unknown command "frobnicate"'],
    [["help", "shwo"], 'config-tracker: unknown command "shwo" (did you mean show?)'],
    [["--bogus"], "config-tracker: unknown option --bogus"],
    [["run", "--config", "nope.json", "--", "true"], "config-tracker run: --config nope.json: no such file"],
    [["run", "--config", "list.json", "--", "true"], "config-tracker run: --config list.json: not a JSON object"],
    [["run", "--config", "torn.json", "--", "true"], /^config-tracker run: --config torn\.json: not JSON: /],
    [["run", "--config", "empty", "--", "true"], "config-tracker run: --config empty: a folder, not a regular file (not read)"],
    [["run", "--interval", "0", "--", "true"], "config-tracker run: --interval 0: seconds between 0.05 and 3600"],
    [["run", "--dir", "x", "--metrics-regex", "(", "--", "true"], /^config-tracker run: --metrics-regex: not a regular expression: /],
    [["run", "python", "train.py"], "config-tracker run: unexpected python train.py: put the command after --"],
    [["run", "--dri", "x", "--", "true"], "config-tracker run: unknown option --dri (did you mean --dir?)"],
    [["ls", "empty", "--sort", "bogus"], /^config-tracker ls: --sort bogus: not a column .*\(there are none\)/],
    [["ls", "--sort"], "config-tracker ls: --sort needs a value: --sort KEY"],
    [["ls", "--sort", "--json"], "config-tracker ls: --sort needs a value (got the option --json); give one that starts with a dash as --sort=--json"],
    [["ls", "--json=yes"], "config-tracker ls: --json takes no value (got --json=yes)"],
    [["ls", "a", "b"], "config-tracker ls: ls takes one ROOT (got a b)"],
    [["show"], "config-tracker show: show takes one run folder"],
    [["diff", "a"], "config-tracker diff: diff takes two run folders"],
    [["compare"], "config-tracker compare: compare takes run folders or roots holding runs"],
    [["inspect"], "config-tracker inspect: inspect takes one checkpoint path"],
    [["hardware", "extra"], "config-tracker hardware: hardware takes no arguments (got extra)"],
    [["ui", "--port", "http"], "config-tracker ui: --port: a port number from 0 to 65535 (got http)"],
    [["sweep", "--", "true"], "config-tracker sweep: --grid FILE is required"],
  ] as Array<[string[], string | RegExp]>)("%s", (args, message) => {
    const result = runCli(args, quiet, root);
    expect(result.status, result.stderr).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(typeof message === "string" ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : message);
    const command = COMMANDS.find((spec) => spec.name === args[0]);
    expect(lines.slice(1)).toEqual(
      command === undefined || args[0] === "help"
        ? ["Usage: config-tracker <command> [options]; config-tracker help lists the commands"]
        : [`Usage: config-tracker ${command.name} ${command.synopsis}`, `config-tracker ${command.name} --help shows every option`],
    );
    expect(result.stderr).not.toMatch(/ENOENT|EISDIR|Error:|\n\s+at |To specify a positional/);
    expect(result.stdout).toBe("");
  });

  it("run --model with a checkpoint that is not there refuses (exit 1) and leaves no folder", () => {
    const runs = join(tempDir(), "runs");
    const result = runCli(["run", "--root", runs, "--name", "exp", "--model", "nope.pt", "--", "true"], quiet, root);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^config-tracker run: .*nope\.pt: /);
    expect(readdirSync(join(runs, ".."))).toEqual([]); // neither runs/exp nor runs/
  });
});
