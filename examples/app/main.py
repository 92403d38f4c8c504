# Example application packed into ROMFS by `make demo`.
import sensors
from sensors import filters

readings = [sensors.read() for _ in range(8)]
print("smoothed:", filters.moving_average(readings, 4))
