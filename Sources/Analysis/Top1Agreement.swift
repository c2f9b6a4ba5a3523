/// Rows of `classes` scores (the last axis) whose arg-max agrees between `x` and `y`, and the
/// rows compared; ties go to the first index.
func top1Agreement(_ x: [Float], _ y: [Float], classes: Int) -> (agree: Int, rows: Int) {
    let rows = x.count / classes
    var agree = 0
    for row in 0..<rows {
        let slice = row * classes..<(row + 1) * classes
        if argMax(x[slice]) == argMax(y[slice]) { agree += 1 }
    }
    return (agree, rows)
}

/// The index (from 0) of the first largest value.
func argMax(_ values: ArraySlice<Float>) -> Int {
    var best = values.startIndex
    for index in values.indices where values[index] > values[best] { best = index }
    return best - values.startIndex
}
