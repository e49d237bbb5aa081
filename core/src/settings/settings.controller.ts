import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SettingsService } from './settings.service.js';
import { SettingView, UpdateSettingDto } from './dto/update-setting.dto.js';
import { Roles } from '../identity/decorators/roles.decorator.js';
import { CurrentActor } from '../identity/decorators/current-actor.decorator.js';
import type { Actor } from '../identity/actor.js';

@ApiTags('settings')
@ApiBearerAuth()
@Controller('api/v1/settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @Roles('admin', 'supervisor', 'auditor')
  @ApiOperation({ summary: 'List every setting with its current value' })
  @ApiOkResponse({ type: SettingView, isArray: true })
  list(): { items: SettingView[] } {
    return { items: this.settings.list() };
  }

  @Get(':key')
  @Roles('admin', 'supervisor', 'auditor')
  @ApiOkResponse({ type: SettingView })
  get(@Param('key') key: string): SettingView {
    return this.settings.describe(key);
  }

  @Put(':key')
  @Roles('admin')
  @ApiOperation({ summary: 'Change a setting; every core instance sees it through sb.evt.settings.changed' })
  @ApiOkResponse({ type: SettingView })
  update(@Param('key') key: string, @Body() body: UpdateSettingDto, @CurrentActor() actor?: Actor): Promise<SettingView> {
    return this.settings.update(key, body.value, actor?.id ?? null, body.expectedVersion);
  }
}
