/**
 * docs/cli.md, made from the CLI's grammar (grammar.ts), as the help is: every command with its
 * usage, options, examples, exit statuses and environment, and the conventions they share.
 * `npm run docs:cli` writes it; test/cli-grammar.test.ts fails when the file is not this.
 */
import {
  COMMANDS,
  ENVIRONMENT,
  EXIT_EXCEPTIONS,
  EXIT_STATUSES,
  GLOBAL_OPTIONS,
  PROGRAM,
  type CommandSpec,
  type OptionSpec,
} from "./grammar.js";
import { environmentOf, optionSections, optionSyntax, usageLine } from "./help.js";

/** Help text as Markdown: outside its `code` spans, <, > and * are shown as they are. */
const prose = (text: string) =>
  text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith("`") ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\*/g, "\\*")))
    .join("");
/** A table cell: one line, pipes escaped. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
const code = (text: string) => `\`${text}\``;
const optionCell = (option: OptionSpec) => `${code(optionSyntax(option))}${option.multiple ? " (repeatable)" : ""}`;

function table(head: [string, string], rows: Array<[string, string]>): string {
  return [`| ${head[0]} | ${head[1]} |`, "|---|---|", ...rows.map(([a, b]) => `| ${cell(a)} | ${cell(prose(b))} |`)].join("\n");
}

function commandSection(command: CommandSpec): string {
  const parts = [
    `## \`${PROGRAM} ${command.name}\``,
    "```sh\n" + `${usageLine(command)}\n` + "```",
    ...command.description.map(prose),
  ];
  for (const section of optionSections(command)) {
    parts.push(`${section.heading}:\n\n${table(["option", "what it does"], section.options.map((option) => [optionCell(option), option.help]))}`);
  }
  parts.push(`Examples:\n\n\`\`\`sh\n${command.examples.map(([line, what]) => `${line}\n    # ${what}`).join("\n")}\n\`\`\``);
  parts.push(`Exit status:\n\n${table(["status", "when"], command.exits)}`);
  const environment = environmentOf(command);
  if (environment.length > 0) parts.push(`Environment: ${environment.map(([name]) => code(name)).join(", ")} ([below](#environment)).`);
  parts.push(`More: [${command.docs.replace(/^docs\//, "")}](${command.docs.replace(/^docs\//, "")}).`);
  return parts.join("\n\n");
}

export function renderCliDoc(): string {
  const intro = `# The command line: \`${PROGRAM}\`

<!-- Made from src/cli/grammar.ts by \`npm run docs:cli\`, as the help is: do not edit by hand. -->

\`\`\`sh
${PROGRAM} <command> [options] [arguments]
${PROGRAM} <command> --help        # or -h, or: ${PROGRAM} help <command>
\`\`\`

Every command reads its arguments the same way:

- Options and arguments come in any order: \`--name value\` or \`--name=value\`; a flag takes no value.
  A value that starts with a dash is written with \`=\`: \`--sort=-val_loss\`. Options marked
  *repeatable* keep every value given (\`--set a=1 --set b=2\`); any other option given twice keeps
  the last.
- \`--\` ends the options: what follows is the command that \`run\` and \`sweep\` start, word for word
  (\`-h\` there is the command's own).
- \`--help\` or \`-h\` anywhere before \`--\`, and \`${PROGRAM} help <command>\`, print the command's
  help (usage, options, examples, exit statuses, environment) and exit 0. \`${PROGRAM} help\` lists
  the commands.
- \`--json\` prints data on stdout instead of the readable summary. Tables, pages and JSON go to
  stdout; everything else to stderr.
- On stderr, an error, a warning or a usage mistake is one line that starts with the command:
  \`${PROGRAM} ls: warning: ...\`, \`${PROGRAM} run: --config nope.json: no such file\`. A usage
  mistake adds the command's usage line and where its help is, and exits 2; an unknown command or
  option names the closest one (\`unknown command "lss" (did you mean ls?)\`).

Options of the program itself:

${table(["option", "what it does"], GLOBAL_OPTIONS.map((option) => [optionCell(option), option.help]))}

## Exit status

${table(["status", "when"], EXIT_STATUSES)}

${prose(EXIT_EXCEPTIONS)} Each command's table below says when each status happens.

## Commands

${table(["command", "what it does"], COMMANDS.map((command) => [`[${code(command.name)}](#${PROGRAM}-${command.name})`, command.summary]))}`;
  const environment = `## Environment

${table(["variable", "what it does"], ENVIRONMENT.map(([name, what]) => [code(name), what]))}`;
  return `${[intro, ...COMMANDS.map(commandSection), environment].join("\n\n")}\n`;
}
