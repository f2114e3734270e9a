// @tsv/log library face (filled in by its issue).
export {};
