// @tsv/supervise/scan: tsvscan's pieces that tests and embedders use on their own: the listing
// of a scan directory, the pure reconcile step, and the scanner that hosts many supervisors.
export { identityKey, isServiceName, readListing, type Listing, type ListedService, type ListingProblem } from './listing.js';
export { reconcile, retryDelayMs, type KnownService, type ScanActions } from './reconcile.js';
export { Scanner, type HostedSupervisor, type ScannerHooks, type SupervisorFactory } from './scanner.js';
