import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../../identity/decorators/roles.decorator.js';
import { PluginHostService } from './plugin-host.service.js';
import { CreatePluginInstanceDto, TestPluginInstanceDto, UpdatePluginInstanceDto } from './dto/plugin-instance.dto.js';

/** Admin API for plugins: what is installed, and enabling, configuring and testing instances. */
@ApiTags('plugins')
@ApiBearerAuth()
@Controller('api/v1/plugins')
export class PluginHostController {
  constructor(private readonly host: PluginHostService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: 'Installed plugins (with their config schema) and plugins that failed to load' })
  list() {
    return this.host.listPlugins();
  }

  @Get('instances')
  @Roles('admin')
  instances(@Query('pluginId') pluginId?: string) {
    return this.host.listInstances(pluginId).then((items) => ({ items }));
  }

  @Get('instances/:id')
  @Roles('admin')
  instance(@Param('id') id: string) {
    return this.host.getInstance(id);
  }

  @Post(':pluginId/instances')
  @Roles('admin')
  @ApiOperation({ summary: "Create an instance; config is validated against the plugin's JSON Schema, secrets are encrypted at rest" })
  create(@Param('pluginId') pluginId: string, @Body() body: CreatePluginInstanceDto) {
    return this.host.createInstance({ pluginId, ...body });
  }

  @Put('instances/:id')
  @Roles('admin')
  update(@Param('id') id: string, @Body() body: UpdatePluginInstanceDto) {
    return this.host.updateInstance(id, body);
  }

  @Post('instances/:id/enable')
  @Roles('admin')
  @HttpCode(200)
  enable(@Param('id') id: string) {
    return this.host.setEnabled(id, true);
  }

  @Post('instances/:id/disable')
  @Roles('admin')
  @HttpCode(200)
  disable(@Param('id') id: string) {
    return this.host.setEnabled(id, false);
  }

  @Post('instances/:id/test')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({ summary: "Run the plugin's connectivity test (with the stored config, or the one given)" })
  test(@Param('id') id: string, @Body() body: TestPluginInstanceDto) {
    return this.host.test(id, body?.config);
  }

  @Get('instances/:id/deliveries')
  @Roles('admin', 'supervisor')
  @ApiOperation({ summary: 'The outbound delivery log of a channel instance, newest first' })
  deliveries(@Param('id') id: string, @Query('limit') limit?: string) {
    return this.host.deliveries(id, limit ? Number(limit) || 50 : 50).then((items) => ({ items }));
  }

  @Delete('instances/:id')
  @Roles('admin')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.host.deleteInstance(id);
  }
}
