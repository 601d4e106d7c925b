"""instruments: pyvisa drivers for optical test gear and a virtual bench speaking the same SCPI."""
