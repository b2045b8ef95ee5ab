import COpenBLAS
import PersonaModel

/// A trained adapter applies at inference through the forward pass's projection hook, so
/// `generate`, `chat`, `complete` and `loss` run the adapted model without merging weights.
/// The in-memory A and B are in the GGUF row convention (see `AdapterFiles`), the same as the
/// frozen base the hook is called from; dropout is a training-time device and is not applied.
extension LoRAAdapter: ProjectionAdapter {
    public func addDelta(layer: Int, projection: Projection, x: UnsafePointer<Float>, rows: Int,
                         y: UnsafeMutablePointer<Float>, yStride: Int) {
        guard rows > 0, let target = LoRATarget(rawValue: projection.rawValue),
              let s = slot(layer: layer, target: target), let base = parameters.baseAddress else { return }
        let r = config.rank
        // down: [rows, r] = x [rows, in] · Aᵀ (A is [r, in])
        var down = [Float](repeating: 0, count: rows * r)
        down.withUnsafeMutableBufferPointer { d in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(r), Int32(s.inDim),
                        1, x, Int32(s.inDim), base + s.aOffset, Int32(s.inDim), 0, d.baseAddress, Int32(r))
            // y [rows, out] += scaling · down · Bᵀ (B is [out, r])
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(s.outDim), Int32(r),
                        config.scaling, d.baseAddress, Int32(r), base + s.bOffset, Int32(r), 1, y, Int32(yStride))
        }
    }
}
