/// The colour scale of saved pictures: white for no attention to dark blue for all of it
/// (a sequential scale that prints and reads well for colour-blind readers).
public enum HeatColor {
    public static let low: (UInt8, UInt8, UInt8) = (255, 255, 255)
    public static let high: (UInt8, UInt8, UInt8) = (8, 48, 107)
    /// Cells above the causal diagonal (keys a query cannot see).
    public static let masked: (UInt8, UInt8, UInt8) = (238, 238, 238)

    public static func rgb(_ p: Float) -> (UInt8, UInt8, UInt8) {
        let t = p.isFinite ? max(0, min(1, p)) : 0
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Float(a) + (Float(b) - Float(a)) * t).rounded()) }
        return (mix(low.0, high.0), mix(low.1, high.1), mix(low.2, high.2))
    }

    public static func hex(_ c: (UInt8, UInt8, UInt8)) -> String {
        let digits = Array("0123456789abcdef")
        var s = "#"
        for v in [c.0, c.1, c.2] { s.append(digits[Int(v >> 4)]); s.append(digits[Int(v & 15)]) }
        return s
    }
}

/// Where each head's panel goes in a picture of several heads: up to `columns` per row.
struct PanelLayout {
    var panels: Int
    var columns: Int
    var panelWidth: Int
    var panelHeight: Int
    var gap: Int

    var rows: Int { (panels + columns - 1) / columns }
    var width: Int { min(panels, columns) * panelWidth + (min(panels, columns) - 1) * gap }
    var height: Int { rows * panelHeight + (rows - 1) * gap }

    func origin(_ i: Int) -> (x: Int, y: Int) {
        ((i % columns) * (panelWidth + gap), (i / columns) * (panelHeight + gap))
    }
}
