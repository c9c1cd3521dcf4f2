import Glibc

/// Time on CLOCK_MONOTONIC: for every duration and every deadline Sightline sets itself.
///
/// A wall-clock step (NTP, a resumed VM, an operator's `date -s`) moves `Date` by seconds or hours; a duration
/// taken from two `Date`s then reads hours long, or negative, and a deadline set with one never comes or comes
/// at once. This clock never goes backwards and ignores such steps. Wall time stays for timestamps and for the
/// instants the upstream names in wall time (a quota's reset).
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary start (boot).
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Seconds since the same start: the unit of request and session durations.
    public static func seconds() -> Double { Double(now()) / 1e9 }

    /// `seconds` as nanoseconds, 0 for a negative or zero span.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        seconds <= 0 ? 0 : UInt64(seconds * 1e9)
    }
}
