// wired by the package's issue
export {};
