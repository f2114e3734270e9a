// @tsv/supervise library face (filled in by its issue).
export {};
