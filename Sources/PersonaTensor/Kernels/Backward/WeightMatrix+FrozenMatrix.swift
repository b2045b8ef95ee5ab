/// The model's weight matrices (float32 or quantized blocks) hand out dequantized row tiles
/// to the backward kernels.
extension WeightMatrix: FrozenMatrix {}
