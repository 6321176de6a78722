/**
 * What the page takes from the rest of the package (bundled in at build time): the number,
 * duration, start, count, git and GPU formatting `ls` uses, and the filter language the API
 * uses. One import site, as views.ts is for the server.
 */
export { formatNumber, formatDuration, formatStart, formatCount, formatGit, formatGpu } from "../../views/run-facts.js";
export { parseFilter, matches, keysRead, subjectOf, type FilterKey, type FilterSubject, type FilterValue, type ParsedFilter } from "../filter.js";
