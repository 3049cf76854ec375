/// The files a cached table was built from, with their sizes and modification times.
///
/// A cache entry is valid only while the manifest of the directory equals the stored one: any file added,
/// removed, resized or touched invalidates it.
struct CacheManifest: Sendable, Equatable {
    struct Item: Sendable, Equatable {
        var path: String
        var size: Int64
        var modifiedNanoseconds: Int64

        init(path: String, size: Int64, modifiedNanoseconds: Int64) {
            self.path = path
            self.size = size
            self.modifiedNanoseconds = modifiedNanoseconds
        }

        /// The item for `path` as it is now on disk (size −1 when it cannot be stat'ed).
        init(path: String) {
            let status = FileSystem.status(path)
            self.init(path: path, size: status?.size ?? -1, modifiedNanoseconds: status?.modifiedNanoseconds ?? 0)
        }
    }

    var items: [Item]
}
