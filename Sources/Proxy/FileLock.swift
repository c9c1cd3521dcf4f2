import Glibc

/// An advisory lock on a file, shared by every process that takes it (`flock`): it makes a state file's
/// read-merge-write one step across processes, so `sightline accounts import` and a running proxy never write over
/// each other's change. Held only around that step; the lock file itself stays empty.
enum FileLock {
    /// Runs `body` holding the lock on `path` (created 0600 if absent). Nil `path` (a memory-only store), or a lock
    /// file that cannot be opened (a read-only directory, whose state file cannot be written either), runs it
    /// unlocked, as before the lock.
    static func exclusive<T>(_ path: String?, _ body: () -> T) -> T {
        guard let path else { return body() }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return body() }
        defer { close(fd) }  // closing releases the lock
        while flock(fd, LOCK_EX) != 0, errno == EINTR {}
        return body()
    }
}
