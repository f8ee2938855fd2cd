// A small leveled logger to stderr; stdout carries only the "brook listening on" line.
export type Level = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export class Logger {
  constructor(
    public level: Level = (process.env.BROOK_LOG_LEVEL as Level) ?? "info",
    private readonly prefix = "",
  ) {}
  private emit(level: Level, msg: string): void {
    if (ORDER[level] < ORDER[this.level]) return;
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${this.prefix}${msg}\n`);
  }
  debug(msg: string): void {
    this.emit("debug", msg);
  }
  info(msg: string): void {
    this.emit("info", msg);
  }
  warn(msg: string): void {
    this.emit("warn", msg);
  }
  error(msg: string): void {
    this.emit("error", msg);
  }
  child(prefix: string): Logger {
    return new Logger(this.level, this.prefix + prefix);
  }
}
