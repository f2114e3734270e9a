// @tsv/ctl library face (filled in by its issue).
export {};
