/**
 * A simulated plant on a real OPC UA server, for demos (`switchboard devices simulate`) and the
 * benchmark: N devices with M numeric variables each, all changing on every tick, plus one
 * off-normal alarm per device that a demo can trip.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy, StatusCodes, Variant, type UAVariable } from 'node-opcua';
import type { OpcuaAlarmMapping, OpcuaItem } from './opcua-source.js';

export interface PlantOptions {
  port: number;
  devices: number;
  metricsPerDevice: number;
  /** How often every variable changes. */
  tickMs: number;
  /** Prefix of device ids, e.g. `sim-` gives sim-0001… */
  prefix?: string;
}

export interface SimulatedPlant {
  endpointUrl: string;
  items: OpcuaItem[];
  alarms: OpcuaAlarmMapping[];
  /** Changes written so far (devices × metrics × ticks). */
  changesWritten(): number;
  /** Trips or clears a device's alarm and pushes its first metric out of range. */
  setFault(deviceIndex: number, active: boolean): void;
  stop(): Promise<void>;
}

export async function startSimulatedPlant(options: PlantOptions): Promise<SimulatedPlant> {
  const prefix = options.prefix ?? 'sim-';
  const pkiDir = mkdtempSync(join(tmpdir(), 'sb-plant-'));
  const certificateManager = new OPCUACertificateManager({ rootFolder: join(pkiDir, 'pki'), automaticallyAcceptUnknownCertificate: true });
  await certificateManager.initialize();
  const server = new OPCUAServer({
    port: options.port,
    hostname: '127.0.0.1',
    resourcePath: '/UA/Plant',
    serverCertificateManager: certificateManager,
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
    allowAnonymous: true,
    serverCapabilities: { maxMonitoredItems: 100_000, maxMonitoredItemsPerSubscription: 100_000, operationLimits: { maxMonitoredItemsPerCall: 100_000 } },
    buildInfo: { productName: 'switchboard-simulated-plant' },
  });
  await server.initialize();
  const addressSpace = server.engine.addressSpace!;
  const namespace = addressSpace.getOwnNamespace();
  const variables: UAVariable[] = [];
  const faults: UAVariable[] = [];
  const items: OpcuaItem[] = [];
  const alarms: OpcuaAlarmMapping[] = [];
  const values: number[] = [];
  for (let device = 0; device < options.devices; device++) {
    const deviceId = `${prefix}${String(device + 1).padStart(4, '0')}`;
    const object = namespace.addObject({
      browseName: deviceId,
      organizedBy: addressSpace.rootFolder.objects,
      eventNotifier: 1,
      notifierOf: addressSpace.rootFolder.objects.server,
    });
    for (let metric = 0; metric < options.metricsPerDevice; metric++) {
      const name = metric === 0 ? 'temperature' : `m${metric}`;
      values.push(20 + metric);
      variables.push(
        namespace.addVariable({
          componentOf: object,
          browseName: name,
          nodeId: `s=${deviceId}.${name}`,
          dataType: 'Double',
          minimumSamplingInterval: Math.min(options.tickMs, 1000),
          value: new Variant({ dataType: DataType.Double, value: 20 + metric }),
        }),
      );
      items.push({ deviceId, metric: name, nodeId: `ns=1;s=${deviceId}.${name}`, samplingIntervalMs: options.tickMs });
    }
    const fault = namespace.addVariable({
      componentOf: object,
      browseName: 'FaultCode',
      nodeId: `s=${deviceId}.FaultCode`,
      dataType: 'UInt32',
      eventSourceOf: object,
      value: new Variant({ dataType: DataType.UInt32, value: 0 }),
    });
    const normal = namespace.addVariable({
      componentOf: object,
      browseName: 'FaultNormal',
      dataType: 'UInt32',
      value: new Variant({ dataType: DataType.UInt32, value: 0 }),
    });
    const alarm = namespace.instantiateOffNormalAlarm({
      browseName: 'DeviceFault',
      componentOf: object,
      conditionSource: fault,
      inputNode: fault,
      normalState: normal,
      conditionName: `${deviceId}.DeviceFault`,
    });
    alarm.setEnabledState(true);
    faults.push(fault);
    alarms.push({ deviceId, match: `${deviceId}.DeviceFault`, code: 'E42' });
  }
  await server.start();
  let written = 0;
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (let index = 0; index < variables.length; index++) {
      // A deterministic wobble, so every tick is a real change of value.
      values[index] = Math.round((values[index]! + (tick % 2 === 0 ? 0.25 : -0.125)) * 1000) / 1000;
      variables[index]!.setValueFromSource(new Variant({ dataType: DataType.Double, value: values[index] }), StatusCodes.Good);
      written++;
    }
  }, options.tickMs);
  return {
    endpointUrl: `opc.tcp://127.0.0.1:${options.port}/UA/Plant`,
    items,
    alarms,
    changesWritten: () => written,
    setFault(deviceIndex, active) {
      faults[deviceIndex]?.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: active ? 42 : 0 }));
      const first = deviceIndex * options.metricsPerDevice;
      values[first] = active ? 95 : 20;
    },
    async stop() {
      clearInterval(timer);
      await server.shutdown(0);
    },
  };
}
