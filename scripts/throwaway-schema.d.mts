export function throwawaySchemaSql(): string;
