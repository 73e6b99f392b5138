"""Drags with the real mouse pointer of an X display: press at (x1, y1), move to (x2, y2)
in small steps, release. It uses libxdo (from libxdo-dev, which the desktop build needs
anyway), which drives the pointer through the XTEST extension, so the window gets the
same events a person's mouse makes. The end-to-end tests use it for HTML5 drag and drop,
which WebKitWebDriver's pointer actions do not start.

Usage: python3 xtest_drag.py X1 Y1 X2 Y2   (screen coordinates; DISPLAY must be set)
"""

import ctypes
import sys
import time

STEPS = 20
CURRENT_WINDOW = ctypes.c_long(0)
LEFT_BUTTON = 1


def main() -> None:
    x1, y1, x2, y2 = (int(float(a)) for a in sys.argv[1:5])
    xdo = ctypes.CDLL("libxdo.so.3")
    xdo.xdo_new.restype = ctypes.c_void_p
    handle = ctypes.c_void_p(xdo.xdo_new(None))
    if not handle.value:
        sys.exit("libxdo could not open the display")

    def move(x: int, y: int) -> None:
        xdo.xdo_move_mouse(handle, x, y, 0)

    move(x1, y1)
    time.sleep(0.2)
    xdo.xdo_mouse_down(handle, CURRENT_WINDOW, LEFT_BUTTON)
    time.sleep(0.2)
    # Small steps: WebKit starts a drag only once the pointer has moved a few pixels
    # with the button held, and sends dragover as it goes.
    for i in range(1, STEPS + 1):
        move(x1 + (x2 - x1) * i // STEPS, y1 + (y2 - y1) * i // STEPS)
        time.sleep(0.05)
    time.sleep(0.3)
    xdo.xdo_mouse_up(handle, CURRENT_WINDOW, LEFT_BUTTON)
    xdo.xdo_free(handle)


if __name__ == "__main__":
    main()
