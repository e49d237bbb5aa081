import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCodes,
  Variant,
  type StatusCode,
  type UAVariable,
} from 'node-opcua';

/**
 * A real OPC UA server for tests: one device (Chiller7) with a temperature variable and an
 * off-normal alarm on its fault-code register. `restart()` stops and starts it on the same port
 * and certificates, like a PLC reboot.
 */
export class TestOpcuaServer {
  private server?: OPCUAServer;
  temperature = 20;
  status: StatusCode = StatusCodes.Good;
  faultCode = 0;
  private temperatureNode?: UAVariable;
  private faultNode?: UAVariable;
  readonly pkiDir = mkdtempSync(join(tmpdir(), 'sb-opcua-server-'));

  constructor(readonly port: number) {}

  get endpointUrl(): string {
    return `opc.tcp://127.0.0.1:${this.port}/UA/Switchboard`;
  }

  async start(): Promise<void> {
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: join(this.pkiDir, 'pki'), automaticallyAcceptUnknownCertificate: true });
    await serverCertificateManager.initialize();
    const server = new OPCUAServer({
      port: this.port,
      hostname: '127.0.0.1',
      resourcePath: '/UA/Switchboard',
      serverCertificateManager,
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
      allowAnonymous: true,
      buildInfo: { productName: 'switchboard-test-plc' },
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace!;
    const namespace = addressSpace.getOwnNamespace();
    const serverObject = addressSpace.rootFolder.objects.server;
    const device = namespace.addObject({ browseName: 'Chiller7', organizedBy: addressSpace.rootFolder.objects, eventNotifier: 1, notifierOf: serverObject });
    this.temperatureNode = namespace.addVariable({
      componentOf: device,
      browseName: 'Temperature',
      nodeId: 's=Chiller7.Temperature',
      dataType: 'Double',
      minimumSamplingInterval: 50,
      value: new Variant({ dataType: DataType.Double, value: this.temperature }),
    });
    this.faultNode = namespace.addVariable({
      componentOf: device,
      browseName: 'FaultCode',
      nodeId: 's=Chiller7.FaultCode',
      dataType: 'UInt32',
      minimumSamplingInterval: 50,
      eventSourceOf: device,
      value: new Variant({ dataType: DataType.UInt32, value: this.faultCode }),
    });
    const normal = namespace.addVariable({
      componentOf: device,
      browseName: 'FaultNormal',
      dataType: 'UInt32',
      value: new Variant({ dataType: DataType.UInt32, value: 0 }),
    });
    const alarm = namespace.instantiateOffNormalAlarm({
      browseName: 'CompressorFault',
      componentOf: device,
      conditionSource: this.faultNode,
      inputNode: this.faultNode,
      normalState: normal,
      conditionName: 'CompressorFault',
    });
    alarm.setEnabledState(true);
    await server.start();
    this.server = server;
  }

  setTemperature(value: number, status: StatusCode = StatusCodes.Good): void {
    this.temperature = value;
    this.status = status;
    this.temperatureNode?.setValueFromSource(new Variant({ dataType: DataType.Double, value }), status);
  }

  setFault(code: number): void {
    this.faultCode = code;
    this.faultNode?.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: code }));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.shutdown(0);
  }

  async restart(downMs = 500): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
    this.setTemperature(this.temperature, this.status);
  }
}
