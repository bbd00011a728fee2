"""A merged GGUF: a copy of the base file in which only the adapted tensors change.

Every metadata field and every tensor the LoRA did not touch is copied byte for byte (its
quantization included); an adapted tensor is dequantized (gguf-py's reference dequantizers),
`λ · T` added, and written as F16 or re-quantized to Q8_0. The file is written beside its
destination and renamed into place when complete; the base file is only ever read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from codequorum.vocabulary.errors import CodequorumError

MergedType = Literal["f16", "q8_0"]
MERGED_TYPES: tuple[MergedType, ...] = ("f16", "q8_0")


@dataclass(frozen=True)
class MergeSummary:
    path: Path
    changed: int  # tensors rewritten
    copied: int  # tensors copied unchanged
    bytes: int


def merge_gguf(base: Path, out: Path, deltas: Mapping[str, np.ndarray], merge_lambda: float,
               merged_type: MergedType = "f16", name_suffix: str = " (distilled)",
               advance: Callable[[], None] = lambda: None) -> MergeSummary:
    """Write `base` with `W + merge_lambda · deltas[name]` for each named tensor to `out`;
    `advance` is called after each tensor written."""
    import gguf

    if out.resolve() == base.resolve():
        raise CodequorumError(f"refusing to overwrite the base model {base}: choose another output path")
    reader = gguf.GGUFReader(base)
    tensors = {t.name: t for t in reader.tensors}
    unknown = sorted(set(deltas) - set(tensors))
    if unknown:
        raise CodequorumError(f"the adapter changes tensors {base.name} does not have: {', '.join(unknown[:5])}")
    qtype = gguf.GGMLQuantizationType.F16 if merged_type == "f16" else gguf.GGMLQuantizationType.Q8_0
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    writer = gguf.GGUFWriter(partial, _architecture(reader), endianess=reader.endianess)
    try:
        _copy_metadata(reader, writer, name_suffix)
        for tensor in reader.tensors:
            if tensor.name in deltas:
                shape, dtype, nbytes = _encoded_layout(_matrix_shape(tensor), qtype)
                writer.add_tensor_info(tensor.name, shape, dtype, nbytes, qtype)
            else:
                writer.add_tensor_info(tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes,
                                       tensor.tensor_type)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for tensor in reader.tensors:
            if tensor.name in deltas:
                data = merged_tensor(tensor, deltas[tensor.name], merge_lambda, qtype)
            else:
                data = tensor.data
            writer.write_tensor_data(data, tensor_endianess=reader.endianess)
            advance()
        writer.close()
        os.replace(partial, out)
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    return MergeSummary(out, len(deltas), len(tensors) - len(deltas), out.stat().st_size)


def tensor_count(path: Path) -> int:
    import gguf

    return len(gguf.GGUFReader(path).tensors)


def merged_tensor(tensor: Any, delta: np.ndarray, merge_lambda: float, qtype: Any) -> np.ndarray:
    """The tensor's weights plus `merge_lambda · delta`, encoded as `qtype`."""
    import gguf

    weights = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
    if weights.shape != delta.shape:
        raise CodequorumError(f"{tensor.name}: the adapter's delta is {delta.shape}, "
                              f"the tensor {weights.shape}: an adapter for another model?")
    merged = weights + np.float32(merge_lambda) * delta.astype(np.float32)
    return gguf.quants.quantize(merged, qtype)


def _encoded_layout(shape: tuple[int, int], qtype: Any) -> tuple[tuple[int, ...], np.dtype[Any], int]:
    """How a [out, in] matrix encoded as `qtype` is declared: its array shape, dtype, bytes."""
    import gguf

    if qtype == gguf.GGMLQuantizationType.F16:
        return shape, np.dtype(np.float16), shape[0] * shape[1] * 2
    try:
        encoded = gguf.quants.quant_shape_to_byte_shape(shape, qtype)
    except ValueError as error:
        raise CodequorumError(f"cannot write a {shape} matrix as {qtype.name}: {error}; use f16") from error
    return encoded, np.dtype(np.uint8), encoded[0] * encoded[1]


def _matrix_shape(tensor: Any) -> tuple[int, int]:
    """[out, in] of a 2-D tensor (ggml lists its dimensions the other way round)."""
    dims = [int(d) for d in tensor.shape]
    if len(dims) != 2:
        raise CodequorumError(f"{tensor.name} is not a matrix: {dims}")
    return dims[1], dims[0]


def _architecture(reader: Any) -> str:
    field = reader.get_field("general.architecture")
    if field is None:
        raise CodequorumError("the base GGUF names no general.architecture")
    return str(field.contents())


def _copy_metadata(reader: Any, writer: Any, name_suffix: str) -> None:
    """Every key-value field as it is (the writer adds GGUF.* and the architecture itself);
    general.name gets `name_suffix`, so the merged model says what it is."""
    import gguf

    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        value = field.contents()
        if field.name == gguf.Keys.General.NAME and name_suffix:
            value = f"{value}{name_suffix}"
        writer.add_key_value(field.name, value, value_type, sub_type=sub_type)
