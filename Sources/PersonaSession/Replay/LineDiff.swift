/// A unified-style diff of two short line lists (a command's recorded and replayed output),
/// with a longest-common-subsequence alignment computed on the normalised lines and the
/// original lines shown.
public enum LineDiff {
    public enum Edit: Equatable {
        case same(Int, Int)   // index in old, index in new
        case removed(Int)
        case added(Int)
    }

    public static func edits(_ old: [String], _ new: [String], equal: (String, String) -> Bool = (==)) -> [Edit] {
        let n = old.count, m = new.count
        // lcs[i][j]: length of the longest common subsequence of old[i...] and new[j...].
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    lcs[i][j] = equal(old[i], new[j]) ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
                }
            }
        }
        var result: [Edit] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, equal(old[i], new[j]) { result.append(.same(i, j)); i += 1; j += 1 }
            // Removals before additions, as diff prints them.
            else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] { result.append(.removed(i)); i += 1 }
            else { result.append(.added(j)); j += 1 }
        }
        return result
    }

    /// `---`/`+++` headers, then `@@ -a,b +c,d @@` hunks with `context` lines around each change.
    /// `compareOld`/`compareNew` (with `equal`) decide equality; `old`/`new` are shown.
    public static func unified(old: [String], new: [String], compareOld: [String]? = nil, compareNew: [String]? = nil,
                               equal: (String, String) -> Bool = (==),
                               oldLabel: String, newLabel: String, context: Int = 2) -> [String] {
        let e = edits(compareOld ?? old, compareNew ?? new, equal: equal)
        let changed = e.indices.filter { if case .same = e[$0] { return false } else { return true } }
        guard !changed.isEmpty else { return [] }
        var hunks: [ClosedRange<Int>] = []
        for c in changed {
            let range = max(0, c - context)...min(e.count - 1, c + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        var out = ["--- " + oldLabel, "+++ " + newLabel]
        for hunk in hunks {
            var body: [String] = []
            var oldStart: Int?, newStart: Int?
            var oldCount = 0, newCount = 0
            var oldBefore = 0, newBefore = 0
            for k in 0..<hunk.lowerBound {
                switch e[k] {
                case .same: oldBefore += 1; newBefore += 1
                case .removed: oldBefore += 1
                case .added: newBefore += 1
                }
            }
            for k in hunk {
                switch e[k] {
                case .same(let a, let b):
                    body.append(" " + old[a]); oldCount += 1; newCount += 1
                    oldStart = oldStart ?? a; newStart = newStart ?? b
                case .removed(let a):
                    body.append("-" + old[a]); oldCount += 1; oldStart = oldStart ?? a
                case .added(let b):
                    body.append("+" + new[b]); newCount += 1; newStart = newStart ?? b
                }
            }
            // Unified diff numbers lines from 1; an empty side names the line before it.
            let a = oldCount == 0 ? oldBefore : (oldStart ?? oldBefore) + 1
            let b = newCount == 0 ? newBefore : (newStart ?? newBefore) + 1
            out.append("@@ -\(a),\(oldCount) +\(b),\(newCount) @@")
            out.append(contentsOf: body)
        }
        return out
    }

    /// Index of the first line that differs (in old), or nil when equal.
    public static func firstDifference(_ old: [String], _ new: [String], equal: (String, String) -> Bool = (==)) -> Int? {
        for i in 0..<max(old.count, new.count) {
            if i >= old.count || i >= new.count || !equal(old[i], new[i]) { return i }
        }
        return nil
    }
}
