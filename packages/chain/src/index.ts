// @tsv/chain library face (filled in by its issue).
export {};
