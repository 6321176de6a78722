/**
 * The help the CLI prints, made from its grammar: the program's (`config-tracker help`) and each
 * command's (`<command> --help`, `-h`, `help <command>`): usage, what it does, options, examples,
 * exit statuses, environment. docs/cli.md is made from the same grammar (cli-doc.ts).
 */
import {
  COMMANDS,
  ENVIRONMENT,
  EXIT_EXCEPTIONS,
  EXIT_STATUSES,
  GLOBAL_OPTIONS,
  HELP_OPTION,
  PROGRAM,
  type CommandSpec,
  type OptionSpec,
} from "./grammar.js";

/** Lines fit an 80-column terminal. */
const WIDTH = 80;

/** `text` in lines of at most `width` columns, every line after the first indented by `indent`. */
export function wrap(text: string, width: number, indent = 0, firstIndent = indent): string {
  const lines: string[] = [];
  let line = " ".repeat(firstIndent);
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = " ".repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/** Two columns: terms, and their text wrapped beside them (on the next line when a term is long). */
function columns(rows: Array<[string, string]>, indent = 2, maxTerm = 28): string {
  const termWidth = Math.min(maxTerm, Math.max(...rows.map(([term]) => term.length)));
  const textColumn = indent + termWidth + 2;
  return rows
    .map(([term, text]) => {
      const head = `${" ".repeat(indent)}${term}`;
      const body = wrap(text, WIDTH, textColumn);
      return term.length > termWidth ? `${head}\n${body}` : `${head.padEnd(textColumn)}${body.slice(textColumn)}`;
    })
    .join("\n");
}

/** `--sort KEY`, `-h, --help` (without the "(repeatable)" of optionTerm). */
export function optionSyntax(option: OptionSpec): string {
  const long = `--${option.name}${option.value === undefined ? "" : ` ${option.value}`}`;
  return option.short ? `-${option.short}, ${long}` : long;
}

/** The option as the help lists it: `--set KEY=VALUE (repeatable)`. */
export function optionTerm(option: OptionSpec): string {
  return option.multiple ? `${optionSyntax(option)} (repeatable)` : optionSyntax(option);
}

export function usageLine(command: CommandSpec): string {
  return `${PROGRAM} ${command.name} ${command.synopsis}`;
}

/** The option groups of a command: "Options", then any named group. */
export function optionSections(command: CommandSpec): Array<{ heading: string; options: OptionSpec[] }> {
  const grouped = new Set(command.optionGroups?.flatMap((group) => group.names) ?? []);
  const shown = command.options.filter((option) => !option.internal);
  return [
    { heading: "Options", options: [...shown.filter((option) => !grouped.has(option.name)), HELP_OPTION] },
    ...(command.optionGroups ?? []).map((group) => ({
      heading: group.heading,
      options: group.names.map((name) => shown.find((option) => option.name === name) as OptionSpec),
    })),
  ];
}

export function environmentOf(command: CommandSpec): Array<[string, string]> {
  return command.environment.map((name) => {
    const entry = ENVIRONMENT.find(([variable]) => variable === name);
    if (entry === undefined) throw new Error(`${command.name}: ${name} is not in the grammar's ENVIRONMENT`);
    return entry;
  });
}

/** What `<command> --help` prints. */
export function commandHelp(command: CommandSpec): string {
  const parts = [`Usage: ${usageLine(command)}`, command.description.map((paragraph) => wrap(paragraph, WIDTH)).join("\n\n")];
  for (const section of optionSections(command)) {
    parts.push(`${section.heading}:\n${columns(section.options.map((option) => [optionTerm(option), option.help]))}`);
  }
  parts.push(`Examples:\n${command.examples.map(([line, what]) => `  ${line}\n${wrap(what, WIDTH, 6)}`).join("\n")}`);
  parts.push(`Exit status:\n${columns(command.exits, 2, 8)}`);
  const environment = environmentOf(command);
  if (environment.length > 0) parts.push(`Environment:\n${columns(environment, 2, 32)}`);
  parts.push(`More: ${command.docs}`);
  return `${parts.join("\n\n")}\n`;
}

/** What `config-tracker help` (and `--help`) prints. */
export function programHelp(): string {
  const parts = [
    `Usage: ${PROGRAM} <command> [options]\n       ${PROGRAM} help <command>`,
    `Commands:\n${columns(
      COMMANDS.map((command) => [command.name, command.summary]),
      2,
      10,
    )}`,
    `Options:\n${columns(GLOBAL_OPTIONS.map((option) => [optionTerm(option), option.help]))}`,
    wrap(`Every command takes --help (or -h): its options, examples and exit statuses. ${EXIT_EXCEPTIONS}`, WIDTH),
    `Exit status:\n${columns(EXIT_STATUSES, 2, 8)}`,
    `Environment:\n${columns(ENVIRONMENT, 2, 32)}`,
    `More: docs/cli.md`,
  ];
  return `${parts.join("\n\n")}\n`;
}

/** The short hint under a usage error: the command's usage line and where its help is. */
export function usageHint(command: CommandSpec | null): string {
  if (command === null) return `Usage: ${PROGRAM} <command> [options]; ${PROGRAM} help lists the commands\n`;
  return `Usage: ${usageLine(command)}\n${PROGRAM} ${command.name} --help shows every option\n`;
}
