export function deployProblems(toml: string): string[];
export function hasSmsProvider(toml: string): boolean;
